// Shared declarations for the netsys addon: errno-carrying JS errors and the exported functions of each unit.
#pragma once

#include <node_api.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <string>

namespace netsys {

// Throws a JS Error carrying `errno` and `syscall`; the TS wrapper turns it into a NetsysError.
void ThrowErrno(napi_env env, int err, const char* syscall);
// Throws a TypeError for a malformed argument (the TS wrapper validates first, so this means a wrapper bug).
void ThrowArg(napi_env env, const char* what);

// Argument helpers: each returns false after throwing.
bool ArgInt32(napi_env env, napi_value v, int32_t* out, const char* what);
bool ArgUint32(napi_env env, napi_value v, uint32_t* out, const char* what);
bool ArgString(napi_env env, napi_value v, std::string* out, const char* what);
bool GetArgs(napi_env env, napi_callback_info info, size_t want, napi_value* argv, napi_value* self = nullptr);

napi_value MakeInt(napi_env env, int64_t v);
napi_value MakeString(napi_env env, const char* s);
napi_value Undefined(napi_env env);

// Registers a function property on `exports`.
bool Export(napi_env env, napi_value exports, const char* name, napi_callback cb);

// A failed system call: errno value and the call's name.
struct SysError {
  int err = 0;
  const char* syscall = "";
  bool Set(const char* call) {
    err = errno;
    syscall = call;
    return false;
  }
};

// Runs `fn` with the calling thread inside the network namespace `netnsFd` (no switch when netnsFd < 0), then
// switches back — always, even when `fn` fails. If switching back fails the process aborts: a JS thread stuck in
// another namespace would silently create every later socket in the wrong place. `fn` returns false after
// filling `e`; InNetns returns false when either the switch or `fn` failed.
bool InNetns(int netnsFd, const std::function<bool(SysError& e)>& fn, SysError& e);

void InitNetns(napi_env env, napi_value exports);
void InitTcp(napi_env env, napi_value exports);
void InitSeqpacket(napi_env env, napi_value exports);
void InitPoller(napi_env env, napi_value exports);

}  // namespace netsys
