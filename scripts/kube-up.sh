#!/bin/sh
# A real Kubernetes control plane on loopback for tests: etcd, kube-apiserver and
# kube-controller-manager built from Go modules by scripts/kube-build.sh (cached per version).
#
#   kube-up.sh build         build (or find) the binaries; prints their directory
#   kube-up.sh start [DIR]   start everything under DIR (default: a new temp dir); prints
#                            KUBECONFIG=DIR/kubeconfig and HERALD_KUBE_DIR=DIR
#   kube-up.sh stop DIR      stop the processes by the PIDs in DIR/*.pid, then remove DIR
#   kube-up.sh apiserver-stop DIR / apiserver-start DIR
#                            kill only kube-apiserver / start it again on the same port
#                            with the same etcd (tests of an API outage)
#
# The API server listens on 127.0.0.1 only (a free port), authenticates static tokens
# (DIR/tokens.csv: an admin in system:masters) and ServiceAccount tokens signed by a key
# generated in DIR, authorizes with Node,RBAC, runs no endpoint reconciler, and allocates
# ClusterIPs from documentation ranges and NodePorts from a wide range. The controller
# manager runs the EndpointSlice, namespace, garbage-collector and ServiceAccount controllers
# (and the Deployment and ReplicaSet controllers with HERALD_KUBE_WORKLOADS=1, as the lab
# asks). HERALD_KUBE_API_PORT picks the API server's port (default: a free one);
# HERALD_KUBE_SERVICE_CIDRS the service CIDRs (default 198.51.100.128/25,2001:db8:fff::/112;
# benches widen them).
set -eu
here=$(cd "$(dirname "$0")" && pwd)

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# wait_for WHAT SECONDS CMD...: runs CMD until it succeeds or the deadline passes.
wait_for() {
  what=$1; secs=$2; shift 2
  end=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$end" ]; then echo "kube-up: $what not ready after ${secs}s" >&2; return 1; fi
    sleep 0.2
  done
}

# stop_dir DIR: TERM the controller manager and the API server together (KILL after 10 s),
# then KILL etcd (its data is thrown away with DIR), then remove DIR.
stop_dir() {
  dir=$1
  [ -d "$dir" ] || return 0
  pids=""
  for name in kube-controller-manager kube-apiserver; do
    [ -f "$dir/$name.pid" ] || continue
    pid=$(cat "$dir/$name.pid")
    kill -TERM "$pid" 2>/dev/null && pids="$pids $pid"
  done
  end=$(( $(date +%s) + 10 ))
  for pid in $pids; do
    while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ -f "$dir/etcd.pid" ]; then
    pid=$(cat "$dir/etcd.pid")
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  fi
  rm -rf "$dir"
}

# start_apiserver DIR: starts kube-apiserver with what DIR/apiserver.env holds (the same
# port, etcd and keys every time) and waits until it is ready.
start_apiserver() {
  dir=$1
  . "$dir/apiserver.env"
  "$bin/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --cert-dir "$dir" --tls-cert-file "$dir/apiserver.crt" --tls-private-key-file "$dir/apiserver.key" \
    --client-ca-file "$dir/ca.crt" --token-auth-file "$dir/tokens.csv" \
    --authorization-mode Node,RBAC \
    --service-account-issuer https://kubernetes.default.svc --service-account-key-file "$dir/sa.pub" \
    --service-account-signing-key-file "$dir/sa.key" \
    --service-cluster-ip-range "$service_cidrs" \
    --service-node-port-range 20000-60000 --endpoint-reconciler-type none \
    --profiling=false --enable-priority-and-fairness=false \
    >>"$dir/kube-apiserver.log" 2>&1 &
  echo $! >"$dir/kube-apiserver.pid"
  wait_for kube-apiserver 120 curl -fsS --cacert "$dir/ca.crt" -H "Authorization: Bearer $token" "https://127.0.0.1:$api_port/readyz"
}

# stop_apiserver DIR: KILLs kube-apiserver only (etcd and the controller manager go on), as a
# crash would; `apiserver-start DIR` starts it again on the same port.
stop_apiserver() {
  dir=$1
  pid=$(cat "$dir/kube-apiserver.pid")
  kill -KILL "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}

start() {
  bin=$(sh "$here/kube-build.sh")
  dir=${1:-}
  if [ -z "$dir" ]; then dir=$(mktemp -d "${TMPDIR:-/tmp}/herald-kube.XXXXXX"); else mkdir -p "$dir"; fi
  trap 'status=$?; if [ $status -ne 0 ]; then echo "kube-up: start failed; logs:" >&2; tail -n 20 "$dir"/*.log >&2 2>/dev/null; stop_dir "$dir"; fi' EXIT

  # Keys and certificates: a CA, a serving certificate for 127.0.0.1/localhost, a
  # ServiceAccount signing key.
  (
    cd "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=herald-kube-ca -keyout ca.key -out ca.crt
    openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver -keyout apiserver.key -out apiserver.csr
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n' >san.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out apiserver.crt
    openssl genrsa -out sa.key 2048
    openssl rsa -in sa.key -pubout -out sa.pub
  ) >/dev/null 2>&1
  token=$(openssl rand -hex 16)
  kcm_token=$(openssl rand -hex 16)
  printf '%s,herald-admin,herald-admin,system:masters\n%s,system:kube-controller-manager,kcm,system:masters\n' "$token" "$kcm_token" >"$dir/tokens.csv"

  etcd_port=$(free_port); peer_port=$(free_port); api_port=${HERALD_KUBE_API_PORT:-0}
  [ "$api_port" != 0 ] || api_port=$(free_port)
  [ "$etcd_port" != "$peer_port" ] || peer_port=$(free_port)

  "$bin/etcd" --name default --data-dir "$dir/etcd" --unsafe-no-fsync \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "default=http://127.0.0.1:$peer_port" --listen-metrics-urls '' \
    >"$dir/etcd.log" 2>&1 &
  echo $! >"$dir/etcd.pid"
  wait_for etcd 30 curl -fsS "http://127.0.0.1:$etcd_port/health"

  printf 'bin=%s\netcd_port=%s\napi_port=%s\ntoken=%s\nservice_cidrs=%s\n' "$bin" "$etcd_port" "$api_port" "$token" \
    "${HERALD_KUBE_SERVICE_CIDRS:-198.51.100.128/25,2001:db8:fff::/112}" >"$dir/apiserver.env"
  start_apiserver "$dir"

  ca=$(base64 -w0 <"$dir/ca.crt")
  kubeconfig() {
    cat <<EOF
apiVersion: v1
kind: Config
clusters:
- name: herald-kube
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority-data: $ca
users:
- name: $2
  user:
    token: $1
contexts:
- name: herald-kube
  context: {cluster: herald-kube, user: $2}
current-context: herald-kube
EOF
  }
  kubeconfig "$token" herald-admin >"$dir/kubeconfig"
  kubeconfig "$kcm_token" kube-controller-manager >"$dir/kcm.kubeconfig"

  controllers=endpointslice-controller,namespace-controller,garbage-collector-controller,serviceaccount-token-controller,serviceaccount-controller
  [ "${HERALD_KUBE_WORKLOADS:-}" != 1 ] || controllers="$controllers,deployment-controller,replicaset-controller"
  "$bin/kube-controller-manager" --kubeconfig "$dir/kcm.kubeconfig" --secure-port 0 \
    --use-service-account-credentials=false --leader-elect=false \
    --controllers "$controllers" \
    --service-account-private-key-file "$dir/sa.key" --root-ca-file "$dir/ca.crt" \
    >"$dir/kube-controller-manager.log" 2>&1 &
  echo $! >"$dir/kube-controller-manager.pid"
  # The namespace controller has started once the default ServiceAccount exists.
  wait_for kube-controller-manager 60 curl -fsS --cacert "$dir/ca.crt" -H "Authorization: Bearer $token" \
    "https://127.0.0.1:$api_port/api/v1/namespaces/default/serviceaccounts/default"

  printf 'KUBECONFIG=%s\nHERALD_KUBE_DIR=%s\nHERALD_KUBE_URL=https://127.0.0.1:%s\n' "$dir/kubeconfig" "$dir" "$api_port" | tee "$dir/env"
  trap - EXIT
}

case "${1:-}" in
  build) sh "$here/kube-build.sh" ;;
  start) shift; start "${1:-}" ;;
  stop) [ -n "${2:-}" ] || { echo "usage: kube-up.sh stop DIR" >&2; exit 2; }; stop_dir "$2" ;;
  apiserver-stop) [ -n "${2:-}" ] || { echo "usage: kube-up.sh apiserver-stop DIR" >&2; exit 2; }; stop_apiserver "$2" ;;
  apiserver-start) [ -n "${2:-}" ] || { echo "usage: kube-up.sh apiserver-start DIR" >&2; exit 2; }; start_apiserver "$2" ;;
  *) echo "usage: kube-up.sh build | start [DIR] | stop DIR | apiserver-stop DIR | apiserver-start DIR" >&2; exit 2 ;;
esac
