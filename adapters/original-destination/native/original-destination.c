// Placeholder until the SO_ORIGINAL_DST lookup lands; the build must have a source to compile.
#include <node_api.h>
static napi_value Init(napi_env env, napi_value exports) { return exports; }
NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
