// Herald's small native addon: an AF_PACKET socket bound to one interface (classic BPF
// filter, multicast membership, non-blocking receive through libuv, whole-frame send), a
// NETLINK_ROUTE socket for link and address notifications, and
// the TCP_MD5SIG / IP TTL socket options Node cannot set. Nothing else: every parse and
// decision is TypeScript.
#include <napi.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

namespace {

Napi::Error SysError(Napi::Env env, const std::string& what, int err) {
  Napi::Error e = Napi::Error::New(env, what + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("code", Napi::String::New(env, "ESYSCALL"));
  return e;
}

// Classic BPF: accept ARP (ethertype 0x0806), and ICMPv6 Neighbor Solicitations (ethertype
// 0x86dd, next header 58 right after the fixed IPv6 header, ICMPv6 type 135). The kernel
// hands AF_PACKET VLAN-tagged frames with the tag moved to metadata, so offsets are those of
// an untagged frame. Everything else is dropped in the kernel.
// With `arpRequestsOnly`, ARP replies (and other operations) are dropped too: a responder
// answers requests only, and a flood of junk replies then never reaches JavaScript. With
// `targets` (at most kMaxArpTargets IPv4 addresses, host order), only requests for those
// addresses pass: requests for everyone else's addresses stay in the kernel.
constexpr size_t kMaxArpTargets = 200;
std::vector<sock_filter> Filter(bool arp, bool ndp, bool arpRequestsOnly, const std::vector<uint32_t>* targets) {
  std::vector<sock_filter> arpPart;
  if (arpRequestsOnly) {
    const size_t n = targets ? targets->size() : 0;
    arpPart.push_back(BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 20));          // ARP operation
    if (targets) {
      // [1] request? else reject at [3+n]; [2] target address; [3..3+n) match -> accept at [4+n].
      arpPart.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, static_cast<unsigned char>(n + 1)));
      arpPart.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 38));         // ARP target protocol address
      for (size_t i = 0; i < n; i++) {
        arpPart.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (*targets)[i], static_cast<unsigned char>(n - i), 0));
      }
      arpPart.push_back(BPF_STMT(BPF_RET | BPF_K, 0));
      arpPart.push_back(BPF_STMT(BPF_RET | BPF_K, arp ? 0xffffu : 0u));
    } else {
      arpPart.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1));   // request?
      arpPart.push_back(BPF_STMT(BPF_RET | BPF_K, arp ? 0xffffu : 0u));
      arpPart.push_back(BPF_STMT(BPF_RET | BPF_K, 0));
    }
  } else {
    arpPart.push_back(BPF_STMT(BPF_RET | BPF_K, arp ? 0xffffu : 0u));
  }
  std::vector<sock_filter> f;
  f.push_back(BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12));                 // ethertype
  f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0806, 0, static_cast<unsigned char>(arpPart.size())));  // ARP?
  f.insert(f.end(), arpPart.begin(), arpPart.end());
  f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x86dd, 0, 5));       // IPv6?
  f.push_back(BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 20));                  // next header
  f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 58, 0, 3));           // ICMPv6?
  f.push_back(BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 54));                  // ICMPv6 type
  f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 135, 0, 1));          // NS?
  f.push_back(BPF_STMT(BPF_RET | BPF_K, ndp ? 0xffffu : 0u));
  f.push_back(BPF_STMT(BPF_RET | BPF_K, 0));
  return f;
}

// What Herald's receiving sockets share: a non-blocking fd polled by libuv, a JavaScript
// callback for what arrives, and socket errors handled so that reading never ends. A socket
// error (ENETDOWN when a link goes down, ENOBUFS when netlink drops notifications) makes
// libuv stop the watcher; it is cleared, counted, reported through onError and reading is
// re-armed. `Self::ReadAvailable()` reads what is there.
template <typename Self>
class PolledSocket : public Napi::ObjectWrap<Self> {
 public:
  explicit PolledSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Self>(info) {}
  ~PolledSocket() override { Shutdown(); }

 protected:
  // start(onData(buffer), onError?(message))
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0 || polling_) return env.Undefined();
    callback_ = Napi::Persistent(info[0].As<Napi::Function>());
    if (info.Length() > 1 && info[1].IsFunction()) onError_ = Napi::Persistent(info[1].As<Napi::Function>());
    env_ = env;
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    poll_->data = this;
    uv_poll_init(loop, poll_, fd_);
    uv_poll_start(poll_, UV_READABLE, &PolledSocket::OnReadable);
    polling_ = true;
    this->Ref();
    return env.Undefined();
  }

  static void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
    auto* self = static_cast<PolledSocket*>(handle->data);
    if (self->fd_ < 0) return;
    Napi::HandleScope scope(self->env_);
    if (status < 0) {
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(self->fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      self->errors_++;
      if (self->polling_) uv_poll_start(self->poll_, UV_READABLE, &PolledSocket::OnReadable);
      self->ReportError(err != 0 ? strerror(err) : uv_strerror(status));
      return;
    }
    static_cast<Self*>(self)->ReadAvailable();
  }

  // A failed read: EAGAIN means drained; anything else (ENETDOWN) was consumed by the call and is said.
  void ReadFailed(int err) {
    if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) return;
    errors_++;
    ReportError(strerror(err));
  }

  void ReportError(const char* message) {
    if (onError_.IsEmpty()) return;
    onError_.Call({Napi::String::New(env_, message)});
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  void Shutdown() {
    if (polling_) {
      uv_poll_stop(poll_);
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
      polling_ = false;
      callback_.Reset();
      onError_.Reset();
      this->Unref();
    }
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

  int fd_ = -1;
  bool polling_ = false;
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference callback_;
  Napi::FunctionReference onError_;
  Napi::Env env_ = nullptr;
  uint64_t errors_ = 0;
};

class PacketSocket : public PolledSocket<PacketSocket> {
  friend class PolledSocket<PacketSocket>;
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "PacketSocket",
                       {InstanceMethod("start", &PacketSocket::Start), InstanceMethod("send", &PacketSocket::Send),
                        InstanceMethod("addMembership", &PacketSocket::AddMembership),
                        InstanceMethod("close", &PacketSocket::Close), InstanceMethod("stats", &PacketSocket::Stats),
                        InstanceMethod("setArpTargets", &PacketSocket::SetArpTargets),
                        InstanceAccessor("ifindex", &PacketSocket::IfIndex, nullptr)});
  }

  // new PacketSocket(ifname, { arp, ndp, arpRequestsOnly })
  PacketSocket(const Napi::CallbackInfo& info) : PolledSocket<PacketSocket>(info) {
    Napi::Env env = info.Env();
    std::string ifname = info[0].As<Napi::String>();
    Napi::Object opts = info.Length() > 1 && info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
    bool arp = !opts.Has("arp") || opts.Get("arp").ToBoolean();
    bool ndp = !opts.Has("ndp") || opts.Get("ndp").ToBoolean();
    bool arpRequestsOnly = opts.Has("arpRequestsOnly") && opts.Get("arpRequestsOnly").ToBoolean();
    ifindex_ = if_nametoindex(ifname.c_str());
    if (ifindex_ == 0) {
      SysError(env, "if_nametoindex(" + ifname + ")", errno).ThrowAsJavaScriptException();
      return;
    }
    fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd_ < 0) {
      SysError(env, "socket(AF_PACKET)", errno).ThrowAsJavaScriptException();
      return;
    }
    arp_ = arp;
    ndp_ = ndp;
    arpRequestsOnly_ = arpRequestsOnly;
    std::vector<sock_filter> code = Filter(arp, ndp, arpRequestsOnly, nullptr);
    sock_fprog prog{static_cast<unsigned short>(code.size()), code.data()};
    if (setsockopt(fd_, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0) {
      int e = errno;
      ::close(fd_);
      fd_ = -1;
      SysError(env, "SO_ATTACH_FILTER", e).ThrowAsJavaScriptException();
      return;
    }
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = static_cast<int>(ifindex_);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) < 0) {
      int e = errno;
      ::close(fd_);
      fd_ = -1;
      SysError(env, "bind(" + ifname + ")", e).ThrowAsJavaScriptException();
      return;
    }
  }

 private:
  Napi::Value IfIndex(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), ifindex_); }

  // start(onFrame(buffer), onError?(message)) comes from PolledSocket; frames this host sent
  // itself (PACKET_OUTGOING) are dropped.
  void ReadAvailable() {
    unsigned char buf[65536];
    for (int i = 0; i < 64 && fd_ >= 0; i++) {
      sockaddr_ll from{};
      socklen_t len = sizeof(from);
      ssize_t n = recvfrom(fd_, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 0) {
        ReadFailed(errno);
        break;
      }
      if (from.sll_pkttype == PACKET_OUTGOING) continue;
      received_++;
      Napi::Buffer<unsigned char> frame = Napi::Buffer<unsigned char>::Copy(env_, buf, static_cast<size_t>(n));
      callback_.Call({frame});
    }
  }

  // setArpTargets(addresses: number[] | null): only ARP requests for these IPv4 addresses
  // (host-order numbers) reach JavaScript; null (or more than kMaxArpTargets) lets every
  // request through. The new filter replaces the old one atomically.
  Napi::Value SetArpTargets(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) return env.Undefined();
    std::vector<uint32_t> targets;
    bool all = !info[0].IsArray();
    if (!all) {
      Napi::Array a = info[0].As<Napi::Array>();
      if (a.Length() > kMaxArpTargets) all = true;
      for (uint32_t i = 0; !all && i < a.Length(); i++) targets.push_back(a.Get(i).As<Napi::Number>().Uint32Value());
    }
    std::vector<sock_filter> code = Filter(arp_, ndp_, arpRequestsOnly_, all ? nullptr : &targets);
    sock_fprog prog{static_cast<unsigned short>(code.size()), code.data()};
    if (setsockopt(fd_, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0) {
      SysError(env, "SO_ATTACH_FILTER", errno).ThrowAsJavaScriptException();
    }
    return Napi::Boolean::New(env, !all);
  }

  // stats() -> { received, errors, queued, drops }: frames handed to JS, socket errors seen,
  // bytes waiting in the receive queue (SIOCINQ: a watchdog's evidence of a stalled reader),
  // and frames the kernel dropped because the receive buffer was full.
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int queued = 0;
    if (fd_ >= 0 && ioctl(fd_, SIOCINQ, &queued) < 0) queued = 0;
    // PACKET_STATISTICS counts since the last read: kept as a running total.
    tpacket_stats ts{};
    socklen_t tslen = sizeof(ts);
    if (fd_ >= 0 && getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &ts, &tslen) == 0) drops_ += ts.tp_drops;
    Napi::Object out = Napi::Object::New(env);
    out.Set("received", Napi::Number::New(env, static_cast<double>(received_)));
    out.Set("errors", Napi::Number::New(env, static_cast<double>(errors_)));
    out.Set("queued", Napi::Number::New(env, queued));
    out.Set("drops", Napi::Number::New(env, static_cast<double>(drops_)));
    return out;
  }

  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Buffer<unsigned char> frame = info[0].As<Napi::Buffer<unsigned char>>();
    if (fd_ < 0) {
      Napi::Error::New(env, "socket is closed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = static_cast<int>(ifindex_);
    to.sll_halen = ETH_ALEN;
    if (frame.Length() >= 6) memcpy(to.sll_addr, frame.Data(), 6);
    ssize_t n = sendto(fd_, frame.Data(), frame.Length(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
    if (n < 0) {
      SysError(env, "sendto", errno).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    return Napi::Number::New(env, static_cast<double>(n));
  }

  // addMembership(macBuffer): receive frames sent to this multicast MAC (e.g. 33:33:ff:xx:xx:xx).
  Napi::Value AddMembership(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Buffer<unsigned char> mac = info[0].As<Napi::Buffer<unsigned char>>();
    packet_mreq mr{};
    mr.mr_ifindex = static_cast<int>(ifindex_);
    mr.mr_type = PACKET_MR_MULTICAST;
    mr.mr_alen = ETH_ALEN;
    memcpy(mr.mr_address, mac.Data(), ETH_ALEN);
    if (setsockopt(fd_, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
      SysError(env, "PACKET_ADD_MEMBERSHIP", errno).ThrowAsJavaScriptException();
    }
    return env.Undefined();
  }

  unsigned int ifindex_ = 0;
  uint64_t received_ = 0;
  uint64_t drops_ = 0;
  bool arp_ = true;
  bool ndp_ = true;
  bool arpRequestsOnly_ = false;
};

// A NETLINK_ROUTE socket subscribed to link and address changes (RTM_NEWLINK/DELLINK,
// RTM_NEWADDR/DELADDR): new NetlinkSocket(); start(onMessages(buffer), onError(message));
// send(request) for dumps. Each datagram goes to JS whole; parsing is TypeScript. Needs no
// privilege. ENOBUFS (the kernel dropped notifications) is reported so the caller re-dumps.
class NetlinkSocket : public PolledSocket<NetlinkSocket> {
  friend class PolledSocket<NetlinkSocket>;

 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "NetlinkSocket",
                       {InstanceMethod("start", &NetlinkSocket::Start), InstanceMethod("send", &NetlinkSocket::Send),
                        InstanceMethod("close", &NetlinkSocket::Close)});
  }

  NetlinkSocket(const Napi::CallbackInfo& info) : PolledSocket<NetlinkSocket>(info) {
    Napi::Env env = info.Env();
    fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd_ < 0) {
      SysError(env, "socket(AF_NETLINK)", errno).ThrowAsJavaScriptException();
      return;
    }
    int rcvbuf = 1 << 20;
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    sockaddr_nl snl{};
    snl.nl_family = AF_NETLINK;
    snl.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&snl), sizeof(snl)) < 0) {
      int e = errno;
      ::close(fd_);
      fd_ = -1;
      SysError(env, "bind(AF_NETLINK)", e).ThrowAsJavaScriptException();
      return;
    }
  }

 private:
  void ReadAvailable() {
    std::vector<unsigned char> buf(1 << 16);
    for (int i = 0; i < 64 && fd_ >= 0; i++) {
      ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
      if (n < 0) {
        ReadFailed(errno);
        break;
      }
      Napi::Buffer<unsigned char> msg = Napi::Buffer<unsigned char>::Copy(env_, buf.data(), static_cast<size_t>(n));
      callback_.Call({msg});
    }
  }

  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Buffer<unsigned char> req = info[0].As<Napi::Buffer<unsigned char>>();
    if (fd_ < 0) {
      Napi::Error::New(env, "socket is closed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    sockaddr_nl to{};
    to.nl_family = AF_NETLINK;
    ssize_t n = sendto(fd_, req.Data(), req.Length(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
    if (n < 0) {
      SysError(env, "sendto(AF_NETLINK)", errno).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    return Napi::Number::New(env, static_cast<double>(n));
  }
};

bool FillSockaddr(const std::string& addr, sockaddr_storage* ss, int family) {
  memset(ss, 0, sizeof(*ss));
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(ss);
    sin->sin_family = AF_INET;
    return inet_pton(AF_INET, addr.c_str(), &sin->sin_addr) == 1;
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(ss);
  sin6->sin6_family = AF_INET6;
  return inet_pton(AF_INET6, addr.c_str(), &sin6->sin6_addr) == 1;
}

// tcpSocket(family 4|6, { md5Peer?, md5Key?, ttl? }) -> fd: a TCP socket with TCP_MD5SIG for
// one peer (RFC 2385) and/or an IP TTL / hop limit, for `new net.Socket({ fd })`.
Napi::Value TcpSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int family = info[0].As<Napi::Number>().Int32Value() == 6 ? AF_INET6 : AF_INET;
  Napi::Object opts = info.Length() > 1 && info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) {
    SysError(env, "socket(TCP)", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (opts.Has("md5Peer") && opts.Has("md5Key")) {
    std::string peer = opts.Get("md5Peer").As<Napi::String>();
    std::string key = opts.Get("md5Key").As<Napi::String>();
    tcp_md5sig sig{};
    if (!FillSockaddr(peer, &sig.tcpm_addr, family) || key.size() > TCP_MD5SIG_MAXKEYLEN) {
      ::close(fd);
      Napi::Error::New(env, "TCP_MD5SIG: bad peer address or key longer than 80 bytes").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    sig.tcpm_keylen = static_cast<uint16_t>(key.size());
    memcpy(sig.tcpm_key, key.data(), key.size());
    if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof(sig)) < 0) {
      int e = errno;
      ::close(fd);
      SysError(env, "setsockopt(TCP_MD5SIG)", e).ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  if (opts.Has("ttl")) {
    int ttl = opts.Get("ttl").As<Napi::Number>().Int32Value();
    int r = family == AF_INET ? setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) : setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof(ttl));
    if (r < 0) {
      int e = errno;
      ::close(fd);
      SysError(env, "setsockopt(TTL)", e).ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  return Napi::Number::New(env, fd);
}

// tcpMd5(fd, peer, key): sets (or with an empty key removes) the TCP_MD5SIG key for one
// peer on an existing socket, typically a listening one: accepted connections inherit it.
// An IPv4 peer on an IPv6 socket gets its v4-mapped address, as the kernel matches it.
Napi::Value TcpMd5(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::string peer = info[1].As<Napi::String>();
  std::string key = info[2].As<Napi::String>();
  sockaddr_storage local{};
  socklen_t len = sizeof(local);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) < 0) {
    SysError(env, "getsockname", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int family = local.ss_family == AF_INET6 ? AF_INET6 : AF_INET;
  bool v4peer = peer.find(':') == std::string::npos;
  if (family == AF_INET6 && v4peer) peer = "::ffff:" + peer;
  if (family == AF_INET && !v4peer) {
    Napi::Error::New(env, "TCP_MD5SIG: an IPv6 peer on an IPv4 socket").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  tcp_md5sig sig{};
  if (!FillSockaddr(peer, &sig.tcpm_addr, family) || key.size() > TCP_MD5SIG_MAXKEYLEN) {
    Napi::Error::New(env, "TCP_MD5SIG: bad peer address or key longer than 80 bytes").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  sig.tcpm_keylen = static_cast<uint16_t>(key.size());
  memcpy(sig.tcpm_key, key.data(), key.size());
  if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof(sig)) < 0) {
    SysError(env, "setsockopt(TCP_MD5SIG)", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return env.Undefined();
}

// ipTtl(fd, ttl): the IP TTL / hop limit of an existing socket (-1: the system default),
// typically a listening one: the SYN-ACK and accepted connections carry it. An IPv6 socket
// gets both, since its IPv4 peers (v4-mapped) use the IPv4 TTL.
Napi::Value IpTtl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int ttl = info[1].As<Napi::Number>().Int32Value();
  if (ttl != -1 && (ttl < 1 || ttl > 255)) {
    Napi::RangeError::New(env, "TTL: 1 to 255, or -1 for the default").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  sockaddr_storage local{};
  socklen_t len = sizeof(local);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) < 0) {
    SysError(env, "getsockname", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (local.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof(ttl)) < 0) {
    SysError(env, "setsockopt(IPV6_UNICAST_HOPS)", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) < 0) {
    SysError(env, "setsockopt(IP_TTL)", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return env.Undefined();
}

// ---- UDP with TTL (BFD, RFC 5881/5883): a datagram socket that sends with a fixed TTL / hop
// limit and reports the TTL each datagram arrived with (IP_RECVTTL / IPV6_RECVHOPLIMIT and
// recvmsg), which Node's dgram cannot. udpTtlSocket({family, address, port, ttl}, onMessage?)
// returns {port, send(buf, addr, port), close()}; onMessage(buf, fromAddr, fromPort, ttl).
struct UdpTtl {
  int fd = -1;
  int family = AF_INET;
  uv_poll_t* poll = nullptr;
  Napi::FunctionReference cb;
  napi_env env = nullptr;
};

void UdpTtlShutdown(UdpTtl* s) {
  if (s->poll) {
    uv_poll_stop(s->poll);
    uv_close(reinterpret_cast<uv_handle_t*>(s->poll), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    s->poll = nullptr;
    s->cb.Reset();
  }
  if (s->fd >= 0) {
    ::close(s->fd);
    s->fd = -1;
  }
}

void UdpTtlReadable(uv_poll_t* handle, int status, int events) {
  auto* s = static_cast<UdpTtl*>(handle->data);
  if (status < 0 || s->fd < 0) return;
  Napi::Env env(s->env);
  Napi::HandleScope scope(env);
  unsigned char buf[2048];
  for (int i = 0; i < 64 && s->fd >= 0; i++) {
    sockaddr_storage from{};
    iovec iov{buf, sizeof(buf)};
    alignas(cmsghdr) unsigned char control[128];
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof(from);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t n = recvmsg(s->fd, &msg, 0);
    if (n < 0) break;
    int ttl = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) || (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)) memcpy(&ttl, CMSG_DATA(c), sizeof(ttl));
    }
    char addr[INET6_ADDRSTRLEN] = "";
    int port = 0;
    if (from.ss_family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&from);
      inet_ntop(AF_INET, &a->sin_addr, addr, sizeof(addr));
      port = ntohs(a->sin_port);
    } else {
      auto* a = reinterpret_cast<sockaddr_in6*>(&from);
      inet_ntop(AF_INET6, &a->sin6_addr, addr, sizeof(addr));
      port = ntohs(a->sin6_port);
    }
    s->cb.Call({Napi::Buffer<unsigned char>::Copy(env, buf, static_cast<size_t>(n)), Napi::String::New(env, addr), Napi::Number::New(env, port), Napi::Number::New(env, ttl)});
  }
}

Napi::Value UdpTtlSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object opts = info[0].As<Napi::Object>();
  int family = opts.Get("family").As<Napi::Number>().Int32Value() == 6 ? AF_INET6 : AF_INET;
  std::string address = opts.Has("address") ? opts.Get("address").As<Napi::String>().Utf8Value() : "";
  int port = opts.Has("port") ? opts.Get("port").As<Napi::Number>().Int32Value() : 0;
  int ttl = opts.Has("ttl") ? opts.Get("ttl").As<Napi::Number>().Int32Value() : 255;
  if (ttl < 1 || ttl > 255 || port < 0 || port > 65535) {
    Napi::RangeError::New(env, "udpTtlSocket: ttl 1 to 255, port 0 to 65535").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  sockaddr_storage local{};
  if (!FillSockaddr(address.empty() ? (family == AF_INET ? "0.0.0.0" : "::") : address, &local, family)) {
    Napi::Error::New(env, "udpTtlSocket: bad local address " + address).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (family == AF_INET) reinterpret_cast<sockaddr_in*>(&local)->sin_port = htons(static_cast<uint16_t>(port));
  else reinterpret_cast<sockaddr_in6*>(&local)->sin6_port = htons(static_cast<uint16_t>(port));
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    SysError(env, "socket(SOCK_DGRAM)", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int one = 1;
  int rc = family == AF_INET
      ? (setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) | setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one)))
      : (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) | setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof(ttl)) |
         setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one)));
  if (rc != 0) {
    int err = errno;
    ::close(fd);
    SysError(env, "setsockopt(TTL)", err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  socklen_t len = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), len) < 0) {
    int err = errno;
    ::close(fd);
    Napi::Error e = SysError(env, "bind", err);
    if (err == EADDRINUSE) e.Set("code", Napi::String::New(env, "EADDRINUSE"));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  len = sizeof(local);
  getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
  int bound = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&local)->sin_port : reinterpret_cast<sockaddr_in6*>(&local)->sin6_port);
  auto* s = new UdpTtl();
  s->fd = fd;
  s->family = family;
  if (info.Length() > 1 && info[1].IsFunction()) {
    s->cb = Napi::Persistent(info[1].As<Napi::Function>());
    s->env = env;
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    s->poll = new uv_poll_t;
    s->poll->data = s;
    uv_poll_init(loop, s->poll, fd);
    uv_poll_start(s->poll, UV_READABLE, UdpTtlReadable);
  }
  Napi::Object obj = Napi::Object::New(env);
  obj.Set("port", Napi::Number::New(env, bound));
  obj.Set("send", Napi::Function::New(env, [](const Napi::CallbackInfo& ci) -> Napi::Value {
    auto* st = static_cast<UdpTtl*>(ci.Data());
    Napi::Env e = ci.Env();
    if (st->fd < 0) {
      Napi::Error::New(e, "socket is closed").ThrowAsJavaScriptException();
      return e.Undefined();
    }
    Napi::Buffer<unsigned char> data = ci[0].As<Napi::Buffer<unsigned char>>();
    sockaddr_storage to{};
    if (!FillSockaddr(ci[1].As<Napi::String>().Utf8Value(), &to, st->family)) {
      Napi::Error::New(e, "send: bad address for this socket's family").ThrowAsJavaScriptException();
      return e.Undefined();
    }
    uint16_t p = htons(static_cast<uint16_t>(ci[2].As<Napi::Number>().Int32Value()));
    if (st->family == AF_INET) reinterpret_cast<sockaddr_in*>(&to)->sin_port = p;
    else reinterpret_cast<sockaddr_in6*>(&to)->sin6_port = p;
    ssize_t n = sendto(st->fd, data.Data(), data.Length(), 0, reinterpret_cast<sockaddr*>(&to), st->family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
    if (n < 0) {
      SysError(e, "sendto", errno).ThrowAsJavaScriptException();
      return e.Undefined();
    }
    return Napi::Number::New(e, static_cast<double>(n));
  }, "send", s));
  obj.Set("close", Napi::Function::New(env, [](const Napi::CallbackInfo& ci) -> Napi::Value {
    UdpTtlShutdown(static_cast<UdpTtl*>(ci.Data()));
    return ci.Env().Undefined();
  }, "close", s));
  obj.AddFinalizer([](Napi::Env, UdpTtl* st) {
    UdpTtlShutdown(st);
    delete st;
  }, s);
  return obj;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("PacketSocket", PacketSocket::Init(env));
  exports.Set("NetlinkSocket", NetlinkSocket::Init(env));
  exports.Set("tcpSocket", Napi::Function::New(env, TcpSocket));
  exports.Set("tcpMd5", Napi::Function::New(env, TcpMd5));
  exports.Set("ipTtl", Napi::Function::New(env, IpTtl));
  exports.Set("udpTtlSocket", Napi::Function::New(env, UdpTtlSocket));
  return exports;
}

}  // namespace

NODE_API_MODULE(herald_native, Init)
