// Error and argument plumbing shared by every unit of the addon.
#include <cstring>

#include "netsys.h"

namespace netsys {

void ThrowErrno(napi_env env, int err, const char* syscall) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  std::string msg = std::string(syscall) + ": " + strerror(err);
  napi_value message, error;
  napi_create_string_utf8(env, msg.c_str(), NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, nullptr, message, &error);
  napi_set_named_property(env, error, "errno", MakeInt(env, err));
  napi_set_named_property(env, error, "syscall", MakeString(env, syscall));
  napi_throw(env, error);
}

void ThrowArg(napi_env env, const char* what) {
  std::string msg = std::string("netsys: invalid argument ") + what;
  napi_throw_type_error(env, "ERR_NETSYS_NATIVE_ARGUMENT", msg.c_str());
}

bool GetArgs(napi_env env, napi_callback_info info, size_t want, napi_value* argv, napi_value* self) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, self, nullptr) != napi_ok || argc < want) {
    ThrowArg(env, "count");
    return false;
  }
  return true;
}

bool ArgInt32(napi_env env, napi_value v, int32_t* out, const char* what) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    ThrowArg(env, what);
    return false;
  }
  return true;
}

bool ArgUint32(napi_env env, napi_value v, uint32_t* out, const char* what) {
  if (napi_get_value_uint32(env, v, out) != napi_ok) {
    ThrowArg(env, what);
    return false;
  }
  return true;
}

bool ArgString(napi_env env, napi_value v, std::string* out, const char* what) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) {
    ThrowArg(env, what);
    return false;
  }
  out->assign(len, '\0');
  napi_get_value_string_utf8(env, v, out->data(), len + 1, &len);
  if (out->find('\0') != std::string::npos) {
    ThrowArg(env, what);
    return false;
  }
  return true;
}

napi_value MakeInt(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

napi_value MakeString(napi_env env, const char* s) {
  napi_value out;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &out);
  return out;
}

napi_value Undefined(napi_env env) {
  napi_value out;
  napi_get_undefined(env, &out);
  return out;
}

bool Export(napi_env env, napi_value exports, const char* name, napi_callback cb) {
  napi_value fn;
  if (napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, nullptr, &fn) != napi_ok) return false;
  return napi_set_named_property(env, exports, name, fn) == napi_ok;
}

}  // namespace netsys
