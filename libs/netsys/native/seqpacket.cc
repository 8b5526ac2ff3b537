// Unix SOCK_SEQPACKET with SCM_RIGHTS, all non-blocking: the TS side drives these from a Poller, so nothing here
// ever waits. One call moves exactly one datagram.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "netsys.h"

namespace netsys {
namespace {

constexpr size_t kMaxFds = 16;  // per message; mirrored in src/seqpacket.ts

bool FillUnix(const std::string& path, sockaddr_un* sun, socklen_t* len) {
  memset(sun, 0, sizeof(*sun));
  sun->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(sun->sun_path)) return false;
  memcpy(sun->sun_path, path.data(), path.size());
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return true;
}

// seqpacketListen(path, backlog) -> fd
napi_value SeqpacketListen(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  std::string path;
  int32_t backlog;
  if (!GetArgs(env, info, 2, argv) || !ArgString(env, argv[0], &path, "path") ||
      !ArgInt32(env, argv[1], &backlog, "backlog")) {
    return nullptr;
  }
  sockaddr_un sun;
  socklen_t len;
  if (!FillUnix(path, &sun, &len)) {
    ThrowErrno(env, ENAMETOOLONG, "bind");
    return nullptr;
  }
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ThrowErrno(env, errno, "socket");
    return nullptr;
  }
  const char* failed = nullptr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&sun), len) != 0) {
    failed = "bind";
  } else if (listen(fd, backlog) != 0) {
    failed = "listen";
  }
  if (failed != nullptr) {
    int err = errno;
    close(fd);
    ThrowErrno(env, err, failed);
    return nullptr;
  }
  return MakeInt(env, fd);
}

// seqpacketAccept(fd) -> new fd, or -1 when no connection is waiting (EAGAIN).
napi_value SeqpacketAccept(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!GetArgs(env, info, 1, argv) || !ArgInt32(env, argv[0], &fd, "fd")) return nullptr;
  int out;
  do {
    out = accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  } while (out < 0 && (errno == EINTR || errno == ECONNABORTED));
  if (out < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return MakeInt(env, -1);
    ThrowErrno(env, errno, "accept4");
    return nullptr;
  }
  return MakeInt(env, out);
}

// seqpacketConnect(path) -> fd. A unix connect completes at once or fails; EAGAIN means the backlog is full.
napi_value SeqpacketConnect(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  std::string path;
  if (!GetArgs(env, info, 1, argv) || !ArgString(env, argv[0], &path, "path")) return nullptr;
  sockaddr_un sun;
  socklen_t len;
  if (!FillUnix(path, &sun, &len)) {
    ThrowErrno(env, ENAMETOOLONG, "connect");
    return nullptr;
  }
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ThrowErrno(env, errno, "socket");
    return nullptr;
  }
  int rc;
  do {
    rc = connect(fd, reinterpret_cast<sockaddr*>(&sun), len);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int err = errno;
    close(fd);
    ThrowErrno(env, err, "connect");
    return nullptr;
  }
  return MakeInt(env, fd);
}

// sendMessage(fd, data: Buffer, fds: number[]) -> bytes sent, or -1 when the socket is full (EAGAIN).
napi_value SendMessage(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd;
  if (!GetArgs(env, info, 3, argv) || !ArgInt32(env, argv[0], &fd, "fd")) return nullptr;
  void* data = nullptr;
  size_t dataLen = 0;
  if (napi_get_buffer_info(env, argv[1], &data, &dataLen) != napi_ok) {
    ThrowArg(env, "data");
    return nullptr;
  }
  uint32_t nfds = 0;
  if (napi_get_array_length(env, argv[2], &nfds) != napi_ok || nfds > kMaxFds) {
    ThrowArg(env, "fds");
    return nullptr;
  }
  int fds[kMaxFds];
  for (uint32_t i = 0; i < nfds; i++) {
    napi_value v;
    napi_get_element(env, argv[2], i, &v);
    if (!ArgInt32(env, v, &fds[i], "fds")) return nullptr;
  }
  iovec iov{data, dataLen};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  if (nfds > 0) {
    memset(control, 0, sizeof(control));
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfds);
  }
  ssize_t n;
  do {
    n = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return MakeInt(env, -1);
    ThrowErrno(env, errno, "sendmsg");
    return nullptr;
  }
  return MakeInt(env, n);
}

// recvMessage(fd, maxSize) -> { data, fds } or null when nothing is queued (EAGAIN). A zero-length datagram
// without fds is end-of-stream. A datagram or fd list that did not fit throws EMSGSIZE after closing what arrived.
napi_value RecvMessage(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  uint32_t maxSize;
  if (!GetArgs(env, info, 2, argv) || !ArgInt32(env, argv[0], &fd, "fd") ||
      !ArgUint32(env, argv[1], &maxSize, "maxSize")) {
    return nullptr;
  }
  std::vector<char> buf(maxSize > 0 ? maxSize : 1);
  iovec iov{buf.data(), maxSize};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      napi_value nul;
      napi_get_null(env, &nul);
      return nul;
    }
    ThrowErrno(env, errno, "recvmsg");
    return nullptr;
  }
  std::vector<int> fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int received;
      memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      fds.push_back(received);
    }
  }
  if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
    for (int f : fds) close(f);
    ThrowErrno(env, EMSGSIZE, "recvmsg");
    return nullptr;
  }
  napi_value out, data, list;
  napi_create_object(env, &out);
  napi_create_buffer_copy(env, static_cast<size_t>(n), buf.data(), nullptr, &data);
  napi_create_array_with_length(env, fds.size(), &list);
  for (size_t i = 0; i < fds.size(); i++) napi_set_element(env, list, static_cast<uint32_t>(i), MakeInt(env, fds[i]));
  napi_set_named_property(env, out, "data", data);
  napi_set_named_property(env, out, "fds", list);
  return out;
}

}  // namespace

void InitSeqpacket(napi_env env, napi_value exports) {
  Export(env, exports, "seqpacketListen", SeqpacketListen);
  Export(env, exports, "seqpacketAccept", SeqpacketAccept);
  Export(env, exports, "seqpacketConnect", SeqpacketConnect);
  Export(env, exports, "sendMessage", SendMessage);
  Export(env, exports, "recvMessage", RecvMessage);
}

}  // namespace netsys
