// TCP sockets made where Node cannot make them: inside another netns, with SO_MARK, IP_TRANSPARENT, IP_FREEBIND,
// SO_REUSEPORT; non-blocking connect; SO_ORIGINAL_DST. Every fd returned is O_NONBLOCK | O_CLOEXEC.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "netsys.h"

#ifndef IPV6_TRANSPARENT
#define IPV6_TRANSPARENT 75
#endif
#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif
// linux/netfilter_ipv4.h and linux/netfilter_ipv6/ip6_tables.h; both are 80.
#define NETSYS_SO_ORIGINAL_DST 80
#define NETSYS_IP6T_SO_ORIGINAL_DST 80

namespace netsys {
namespace {

// Option bits, mirrored in src/native.ts.
enum : uint32_t {
  kTransparent = 1,
  kFreebind = 2,
  kReusePort = 4,
  kReuseAddr = 8,
  kV6Only = 16,
  kV6OnlySet = 32,
  kMarkSet = 64,  // `mark` carries the 32-bit SO_MARK value (as int32 bits)
};

bool FillSockaddr(int family, const std::string& host, uint32_t port, sockaddr_storage* ss, socklen_t* len) {
  memset(ss, 0, sizeof(*ss));
  if (port > 65535) return false;
  if (family == 4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, host.c_str(), &sin->sin_addr) != 1) return false;
    *len = sizeof(*sin);
    return true;
  }
  if (family == 6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET6, host.c_str(), &sin6->sin6_addr) != 1) return false;
    *len = sizeof(*sin6);
    return true;
  }
  return false;
}

napi_value SockaddrToJs(napi_env env, const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {0};
  int port = 0;
  int family = 0;
  if (ss.ss_family == AF_INET) {
    auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
    port = ntohs(sin->sin_port);
    family = 4;
  } else if (ss.ss_family == AF_INET6) {
    auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
    port = ntohs(sin6->sin6_port);
    family = 6;
  }
  napi_value out;
  napi_create_object(env, &out);
  napi_set_named_property(env, out, "address", MakeString(env, buf));
  napi_set_named_property(env, out, "port", MakeInt(env, port));
  napi_set_named_property(env, out, "family", MakeInt(env, family));
  return out;
}

bool SetInt(int fd, int level, int name, int value, SysError& e) {
  if (setsockopt(fd, level, name, &value, sizeof(value)) != 0) return e.Set("setsockopt");
  return true;
}

// socket() + options (+ optional bind); returns the fd or -1 with `e` filled. Runs inside the target netns.
int MakeSocket(int family, int32_t mark, uint32_t flags, const sockaddr_storage* bindTo, socklen_t bindLen,
               SysError& e) {
  int domain = family == 6 ? AF_INET6 : AF_INET;
  int fd = socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    e.Set("socket");
    return -1;
  }
  int ipLevel = family == 6 ? SOL_IPV6 : SOL_IP;
  bool ok = (!(flags & kMarkSet) || SetInt(fd, SOL_SOCKET, SO_MARK, mark, e)) &&
            (!(flags & kTransparent) ||
             SetInt(fd, ipLevel, family == 6 ? IPV6_TRANSPARENT : IP_TRANSPARENT, 1, e)) &&
            (!(flags & kFreebind) || SetInt(fd, ipLevel, family == 6 ? IPV6_FREEBIND : IP_FREEBIND, 1, e)) &&
            (!(flags & kReusePort) || SetInt(fd, SOL_SOCKET, SO_REUSEPORT, 1, e)) &&
            (!(flags & kReuseAddr) || SetInt(fd, SOL_SOCKET, SO_REUSEADDR, 1, e)) &&
            (!(flags & kV6OnlySet) || family != 6 ||
             SetInt(fd, SOL_IPV6, IPV6_V6ONLY, (flags & kV6Only) ? 1 : 0, e));
  if (ok && bindTo != nullptr && bind(fd, reinterpret_cast<const sockaddr*>(bindTo), bindLen) != 0) {
    ok = e.Set("bind");
  }
  if (!ok) {
    close(fd);
    return -1;
  }
  return fd;
}

// createTcpListener(netnsFd, family, host, port, backlog, mark, flags) -> fd
napi_value CreateTcpListener(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  int32_t netnsFd, family, backlog, mark;
  uint32_t port, flags;
  std::string host;
  if (!GetArgs(env, info, 7, argv) || !ArgInt32(env, argv[0], &netnsFd, "netnsFd") ||
      !ArgInt32(env, argv[1], &family, "family") || !ArgString(env, argv[2], &host, "host") ||
      !ArgUint32(env, argv[3], &port, "port") || !ArgInt32(env, argv[4], &backlog, "backlog") ||
      !ArgInt32(env, argv[5], &mark, "mark") || !ArgUint32(env, argv[6], &flags, "flags")) {
    return nullptr;
  }
  sockaddr_storage ss;
  socklen_t len;
  if (!FillSockaddr(family, host, port, &ss, &len)) {
    ThrowArg(env, "host");
    return nullptr;
  }
  int fd = -1;
  SysError e;
  bool ok = InNetns(
      netnsFd,
      [&](SysError& err) {
        fd = MakeSocket(family, mark, flags, &ss, len, err);
        if (fd < 0) return false;
        if (listen(fd, backlog) != 0) {
          err.Set("listen");
          close(fd);
          fd = -1;
          return false;
        }
        return true;
      },
      e);
  if (!ok) {
    ThrowErrno(env, e.err, e.syscall);
    return nullptr;
  }
  return MakeInt(env, fd);
}

// createTcpSocket(netnsFd, family, mark, flags, bindHost ('' = none), bindPort) -> fd
napi_value CreateTcpSocket(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int32_t netnsFd, family, mark;
  uint32_t flags, bindPort;
  std::string bindHost;
  if (!GetArgs(env, info, 6, argv) || !ArgInt32(env, argv[0], &netnsFd, "netnsFd") ||
      !ArgInt32(env, argv[1], &family, "family") || !ArgInt32(env, argv[2], &mark, "mark") ||
      !ArgUint32(env, argv[3], &flags, "flags") || !ArgString(env, argv[4], &bindHost, "bindHost") ||
      !ArgUint32(env, argv[5], &bindPort, "bindPort")) {
    return nullptr;
  }
  sockaddr_storage ss;
  socklen_t len = 0;
  bool doBind = !bindHost.empty() || bindPort != 0;
  if (doBind && !FillSockaddr(family, bindHost.empty() ? (family == 6 ? "::" : "0.0.0.0") : bindHost, bindPort,
                              &ss, &len)) {
    ThrowArg(env, "bindAddress");
    return nullptr;
  }
  int fd = -1;
  SysError e;
  bool ok = InNetns(
      netnsFd,
      [&](SysError& err) {
        fd = MakeSocket(family, mark, flags, doBind ? &ss : nullptr, len, err);
        return fd >= 0;
      },
      e);
  if (!ok) {
    ThrowErrno(env, e.err, e.syscall);
    return nullptr;
  }
  return MakeInt(env, fd);
}

// connectTcp(fd, family, host, port) -> true when connected at once, false while in progress (EINPROGRESS).
napi_value ConnectTcp(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t fd, family;
  uint32_t port;
  std::string host;
  if (!GetArgs(env, info, 4, argv) || !ArgInt32(env, argv[0], &fd, "fd") ||
      !ArgInt32(env, argv[1], &family, "family") || !ArgString(env, argv[2], &host, "host") ||
      !ArgUint32(env, argv[3], &port, "port")) {
    return nullptr;
  }
  sockaddr_storage ss;
  socklen_t len;
  if (!FillSockaddr(family, host, port, &ss, &len)) {
    ThrowArg(env, "host");
    return nullptr;
  }
  int rc;
  do {
    rc = connect(fd, reinterpret_cast<const sockaddr*>(&ss), len);
  } while (rc != 0 && errno == EINTR);
  napi_value out;
  if (rc == 0) {
    napi_get_boolean(env, true, &out);
    return out;
  }
  if (errno == EINPROGRESS) {
    napi_get_boolean(env, false, &out);
    return out;
  }
  ThrowErrno(env, errno, "connect");
  return nullptr;
}

// socketError(fd) -> pending SO_ERROR (0 = none); reading it clears it, as a completed connect expects.
napi_value SocketError(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!GetArgs(env, info, 1, argv) || !ArgInt32(env, argv[0], &fd, "fd")) return nullptr;
  int value = 0;
  socklen_t len = sizeof(value);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &len) != 0) {
    ThrowErrno(env, errno, "getsockopt");
    return nullptr;
  }
  return MakeInt(env, value);
}

// getOriginalDst(fd) -> { address, port, family }: the destination before iptables REDIRECT/DNAT.
napi_value GetOriginalDst(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!GetArgs(env, info, 1, argv) || !ArgInt32(env, argv[0], &fd, "fd")) return nullptr;
  sockaddr_storage local;
  socklen_t len = sizeof(local);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) {
    ThrowErrno(env, errno, "getsockname");
    return nullptr;
  }
  bool v4 = local.ss_family == AF_INET ||
            (local.ss_family == AF_INET6 &&
             IN6_IS_ADDR_V4MAPPED(&reinterpret_cast<const sockaddr_in6*>(&local)->sin6_addr));
  sockaddr_storage orig;
  memset(&orig, 0, sizeof(orig));
  len = v4 ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  // An IPv4 connection accepted on a dual-stack [::] socket is tracked by IPv4 conntrack, so ask SOL_IP.
  int rc = v4 ? getsockopt(fd, SOL_IP, NETSYS_SO_ORIGINAL_DST, &orig, &len)
              : getsockopt(fd, SOL_IPV6, NETSYS_IP6T_SO_ORIGINAL_DST, &orig, &len);
  if (rc != 0) {
    ThrowErrno(env, errno, "getsockopt");
    return nullptr;
  }
  return SockaddrToJs(env, orig);
}

napi_value SockName(napi_env env, napi_callback_info info, bool peer) {
  napi_value argv[1];
  int32_t fd;
  if (!GetArgs(env, info, 1, argv) || !ArgInt32(env, argv[0], &fd, "fd")) return nullptr;
  sockaddr_storage ss;
  memset(&ss, 0, sizeof(ss));
  socklen_t len = sizeof(ss);
  int rc = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len)
                : getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (rc != 0) {
    ThrowErrno(env, errno, peer ? "getpeername" : "getsockname");
    return nullptr;
  }
  if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) {
    ThrowErrno(env, EAFNOSUPPORT, peer ? "getpeername" : "getsockname");
    return nullptr;
  }
  return SockaddrToJs(env, ss);
}

napi_value LocalAddress(napi_env env, napi_callback_info info) { return SockName(env, info, false); }
napi_value PeerAddress(napi_env env, napi_callback_info info) { return SockName(env, info, true); }

}  // namespace

void InitTcp(napi_env env, napi_value exports) {
  Export(env, exports, "createTcpListener", CreateTcpListener);
  Export(env, exports, "createTcpSocket", CreateTcpSocket);
  Export(env, exports, "connectTcp", ConnectTcp);
  Export(env, exports, "socketError", SocketError);
  Export(env, exports, "getOriginalDst", GetOriginalDst);
  Export(env, exports, "localAddress", LocalAddress);
  Export(env, exports, "peerAddress", PeerAddress);
}

}  // namespace netsys
