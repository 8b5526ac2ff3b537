// Network-namespace handles: open, identify, close, and the setns-around-a-call helper used by tcp.cc.
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "netsys.h"

namespace netsys {

bool InNetns(int netnsFd, const std::function<bool(SysError& e)>& fn, SysError& e) {
  if (netnsFd < 0) return fn(e);
  // thread-self, not self: setns changes only the calling thread, and the main thread is what we restore.
  int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (saved < 0) return e.Set("open");
  if (setns(netnsFd, CLONE_NEWNET) != 0) {
    e.Set("setns");
    close(saved);
    return false;
  }
  bool ok = fn(e);
  if (setns(saved, CLONE_NEWNET) != 0) {
    int err = errno;
    fprintf(stderr, "netsys: FATAL: cannot return to the original network namespace (setns: %s); aborting\n",
            strerror(err));
    abort();
  }
  close(saved);
  return ok;
}

namespace {

napi_value OpenNetns(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  std::string path;
  if (!GetArgs(env, info, 1, argv) || !ArgString(env, argv[0], &path, "path")) return nullptr;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    ThrowErrno(env, errno, "open");
    return nullptr;
  }
  return MakeInt(env, fd);
}

// netnsInode(fd: number | path: string) -> { dev, ino }
napi_value NetnsInode(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!GetArgs(env, info, 1, argv)) return nullptr;
  napi_valuetype type;
  napi_typeof(env, argv[0], &type);
  struct stat st;
  if (type == napi_string) {
    std::string path;
    if (!ArgString(env, argv[0], &path, "path")) return nullptr;
    if (stat(path.c_str(), &st) != 0) {
      ThrowErrno(env, errno, "stat");
      return nullptr;
    }
  } else {
    int32_t fd;
    if (!ArgInt32(env, argv[0], &fd, "fd")) return nullptr;
    if (fstat(fd, &st) != 0) {
      ThrowErrno(env, errno, "fstat");
      return nullptr;
    }
  }
  napi_value out;
  napi_create_object(env, &out);
  napi_set_named_property(env, out, "dev", MakeInt(env, static_cast<int64_t>(st.st_dev)));
  napi_set_named_property(env, out, "ino", MakeInt(env, static_cast<int64_t>(st.st_ino)));
  return out;
}

napi_value CloseFd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!GetArgs(env, info, 1, argv) || !ArgInt32(env, argv[0], &fd, "fd")) return nullptr;
  // Linux always releases the descriptor, even when close reports EINTR, so never retry.
  if (close(fd) != 0 && errno != EINTR) {
    ThrowErrno(env, errno, "close");
    return nullptr;
  }
  return Undefined(env);
}

// dupFd(fd) -> a CLOEXEC duplicate, so a caller can hand one copy away and keep the other.
napi_value DupFd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!GetArgs(env, info, 1, argv) || !ArgInt32(env, argv[0], &fd, "fd")) return nullptr;
  int out = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (out < 0) {
    ThrowErrno(env, errno, "fcntl");
    return nullptr;
  }
  return MakeInt(env, out);
}

}  // namespace

void InitNetns(napi_env env, napi_value exports) {
  Export(env, exports, "openNetns", OpenNetns);
  Export(env, exports, "netnsInode", NetnsInode);
  Export(env, exports, "closeFd", CloseFd);
  Export(env, exports, "dupFd", DupFd);
}

}  // namespace netsys
