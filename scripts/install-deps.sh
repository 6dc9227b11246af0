#!/bin/sh
# Installs what Herald's build and tests need, only when it is missing:
# Debian packages (real BGP peers and packet tools) when running as root, then npm packages
# (which also builds the native addon).
set -eu
cd "$(dirname "$0")/.."

need=""
for pair in curl:curl bird:bird2 birdc:bird2 gobgpd:gobgpd /usr/lib/frr/bgpd:frr exabgp:exabgp \
            arping:iputils-arping ndisc6:ndisc6 tcpdump:tcpdump ip:iproute2 nft:nftables chromium:chromium; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  if [ "${cmd#/}" != "$cmd" ]; then [ -x "$cmd" ] && continue; else command -v "$cmd" >/dev/null 2>&1 && continue; fi
  case " $need " in *" $pkg "*) ;; *) need="$need $pkg" ;; esac
done
if [ -n "$need" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: installing Debian packages:$need"
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
  else
    echo "install-deps: missing Debian packages:$need (not root or no apt-get; network tests will fail)" >&2
  fi
fi

# npm ci when the installed tree was not made from this package-lock.json (by content, not
# mtime: a fresh checkout or a worktree sharing node_modules has new mtimes, and npm ci would
# empty a node_modules other checkouts use). The lock alone: it carries package.json's
# dependencies too, and a new npm script is no reason to reinstall.
want=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.herald-installed
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "install-deps: npm ci"
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
fi

# The native addon (AF_PACKET, TCP-MD5): npm ci builds it; rebuild when it is missing or older than its source.
addon=build/Release/herald_native.node
if [ ! -f "$addon" ] || [ native/src/addon.cc -nt "$addon" ] || [ binding.gyp -nt "$addon" ]; then
  echo "install-deps: building the native addon"
  npm run build:native --silent >/dev/null
fi
