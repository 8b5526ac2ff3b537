// Module entry: registers every exported function. Linux only; see README.md for each call's contract.
#include "netsys.h"

NAPI_MODULE_INIT() {
  netsys::InitNetns(env, exports);
  netsys::InitTcp(env, exports);
  netsys::InitSeqpacket(env, exports);
  netsys::InitPoller(env, exports);
  return exports;
}
