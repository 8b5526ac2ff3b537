// Poller: a uv_poll_t on a descriptor the caller owns, so readiness arrives through Node's own event loop and no
// call ever blocks the JS thread. The JS object stays alive (a strong reference) from construction until close();
// the native part is freed only once both libuv has closed the handle and the JS object has been collected.
#include <uv.h>

#include "netsys.h"

namespace netsys {
namespace {

struct Poller {
  uv_poll_t handle;
  napi_env env = nullptr;
  napi_ref self = nullptr;      // strong until close()
  napi_ref callback = nullptr;  // (status: number, events: number) => void
  napi_async_context async = nullptr;
  bool closing = false;
  bool inCallback = false;      // close() from inside the callback defers releasing the async context
  bool releasePending = false;
  bool handleClosed = false;
  bool finalized = false;
};

void MaybeFree(Poller* p) {
  if (p->handleClosed && p->finalized) delete p;
}

void OnHandleClosed(uv_handle_t* h) {
  auto* p = static_cast<Poller*>(h->data);
  p->handleClosed = true;
  MaybeFree(p);
}

void ReleaseRefs(Poller* p) {
  if (p->callback != nullptr) napi_delete_reference(p->env, p->callback);
  if (p->async != nullptr) napi_async_destroy(p->env, p->async);
  if (p->self != nullptr) napi_reference_unref(p->env, p->self, nullptr);
  p->callback = nullptr;
  p->async = nullptr;
}

// Stops polling and starts closing the libuv handle; releases the JS references. Idempotent.
void BeginClose(Poller* p, bool releaseRefs) {
  if (p->closing) return;
  p->closing = true;
  uv_poll_stop(&p->handle);
  uv_close(reinterpret_cast<uv_handle_t*>(&p->handle), OnHandleClosed);
  if (!releaseRefs) return;
  if (p->inCallback) {
    p->releasePending = true;
  } else {
    ReleaseRefs(p);
  }
}

void OnPoll(uv_poll_t* h, int status, int events) {
  auto* p = static_cast<Poller*>(h->data);
  if (p->closing || p->callback == nullptr) return;
  napi_env env = p->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value self, cb, result;
  napi_get_reference_value(env, p->self, &self);
  napi_get_reference_value(env, p->callback, &cb);
  // libuv reports errors as negative errno values on Linux.
  napi_value args[2] = {MakeInt(env, status < 0 ? -status : 0), MakeInt(env, events)};
  p->inCallback = true;
  napi_make_callback(env, p->async, self, cb, 2, args, &result);
  p->inCallback = false;
  // Still alive here: the handle closes on a later loop turn at the earliest.
  if (p->releasePending) {
    p->releasePending = false;
    ReleaseRefs(p);
  }
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
  napi_close_handle_scope(env, scope);
}

void Finalize(napi_env env, void* data, void*) {
  auto* p = static_cast<Poller*>(data);
  p->finalized = true;
  if (p->self != nullptr) {
    napi_delete_reference(env, p->self);
    p->self = nullptr;
  }
  if (!p->closing) {
    // Only reachable at environment teardown, since the strong reference keeps an open Poller alive.
    BeginClose(p, false);
    if (p->callback != nullptr) napi_delete_reference(env, p->callback);
    if (p->async != nullptr) napi_async_destroy(env, p->async);
    p->callback = nullptr;
    p->async = nullptr;
    return;
  }
  MaybeFree(p);
}

Poller* Unwrap(napi_env env, napi_callback_info info, size_t want, napi_value* argv) {
  napi_value self;
  if (!GetArgs(env, info, want, argv, &self)) return nullptr;
  void* data = nullptr;
  if (napi_unwrap(env, self, &data) != napi_ok || data == nullptr) {
    ThrowArg(env, "this");
    return nullptr;
  }
  return static_cast<Poller*>(data);
}

// new Poller(fd, callback)
napi_value Construct(napi_env env, napi_callback_info info) {
  napi_value argv[2], self;
  if (!GetArgs(env, info, 2, argv, &self)) return nullptr;
  int32_t fd;
  if (!ArgInt32(env, argv[0], &fd, "fd")) return nullptr;
  napi_valuetype type;
  napi_typeof(env, argv[1], &type);
  if (type != napi_function) {
    ThrowArg(env, "callback");
    return nullptr;
  }
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    ThrowArg(env, "loop");
    return nullptr;
  }
  auto* p = new Poller();
  int rc = uv_poll_init_socket(loop, &p->handle, fd);
  if (rc != 0) {
    delete p;
    ThrowErrno(env, -rc, "uv_poll_init");
    return nullptr;
  }
  p->handle.data = p;
  p->env = env;
  napi_create_reference(env, argv[1], 1, &p->callback);
  napi_value name = MakeString(env, "netsys:Poller");
  napi_async_init(env, self, name, &p->async);
  if (napi_wrap(env, self, p, Finalize, nullptr, nullptr) != napi_ok) {
    BeginClose(p, true);
    p->finalized = true;
    ThrowArg(env, "wrap");
    return nullptr;
  }
  napi_create_reference(env, self, 1, &p->self);
  return self;
}

// start(events): events is a UV_READABLE | UV_WRITABLE | UV_DISCONNECT mask; replaces the previous mask.
napi_value Start(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  Poller* p = Unwrap(env, info, 1, argv);
  int32_t events;
  if (p == nullptr || !ArgInt32(env, argv[0], &events, "events")) return nullptr;
  if (p->closing) {
    ThrowErrno(env, EBADF, "uv_poll_start");
    return nullptr;
  }
  int rc = uv_poll_start(&p->handle, events, OnPoll);
  if (rc != 0) {
    ThrowErrno(env, -rc, "uv_poll_start");
    return nullptr;
  }
  return Undefined(env);
}

napi_value Stop(napi_env env, napi_callback_info info) {
  Poller* p = Unwrap(env, info, 0, nullptr);
  if (p == nullptr) return nullptr;
  if (!p->closing) uv_poll_stop(&p->handle);
  return Undefined(env);
}

// close(): stop and release; the descriptor itself is the caller's to close (after this call).
napi_value Close(napi_env env, napi_callback_info info) {
  Poller* p = Unwrap(env, info, 0, nullptr);
  if (p == nullptr) return nullptr;
  BeginClose(p, true);
  return Undefined(env);
}

// ref()/unref(): whether an active Poller keeps the process alive (like net.Server#unref).
napi_value SetRef(napi_env env, napi_callback_info info, bool on) {
  Poller* p = Unwrap(env, info, 0, nullptr);
  if (p == nullptr) return nullptr;
  if (!p->closing) {
    if (on) {
      uv_ref(reinterpret_cast<uv_handle_t*>(&p->handle));
    } else {
      uv_unref(reinterpret_cast<uv_handle_t*>(&p->handle));
    }
  }
  return Undefined(env);
}
napi_value Ref(napi_env env, napi_callback_info info) { return SetRef(env, info, true); }
napi_value Unref(napi_env env, napi_callback_info info) { return SetRef(env, info, false); }

}  // namespace

void InitPoller(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"start", nullptr, Start, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"stop", nullptr, Stop, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"close", nullptr, Close, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"ref", nullptr, Ref, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"unref", nullptr, Unref, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_value cls;
  napi_define_class(env, "Poller", NAPI_AUTO_LENGTH, Construct, nullptr, sizeof(methods) / sizeof(methods[0]),
                    methods, &cls);
  napi_set_named_property(env, exports, "Poller", cls);
  napi_value constants;
  napi_create_object(env, &constants);
  napi_set_named_property(env, constants, "READABLE", MakeInt(env, UV_READABLE));
  napi_set_named_property(env, constants, "WRITABLE", MakeInt(env, UV_WRITABLE));
  napi_set_named_property(env, constants, "DISCONNECT", MakeInt(env, UV_DISCONNECT));
  napi_set_named_property(env, exports, "pollEvents", constants);
}

}  // namespace netsys
