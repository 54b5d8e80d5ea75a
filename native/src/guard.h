// The one error path of every C entry point of the shim: a C++ exception never crosses the C ABI;
// it becomes a status code and a message in the caller's rt_ctx::error buffer.
//
//   rt_status rt_x(rt_ctx* ctx, ...) noexcept {
//     RT_GUARD_BEGIN
//       ... body; throw rt_guard::ArgError("...") for the caller's mistakes ...
//     RT_GUARD_END(rt_guard::as_is)
//   }
//
// RT_GUARD_END's argument cleans library messages before they reach the caller (distributed.cpp
// drops Gloo's source-location prefix); each .cpp wraps these two in its own RT_BEGIN/RT_END.

#pragma once

#include "rectok_torch.h"

#include <c10/util/Exception.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace rt_guard {

// A mistake of the caller (NULL handle, wrong shape, ...): reported as RT_ERR_ARG.
struct ArgError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline void set_error(rt_ctx* ctx, const char* msg) noexcept {
  size_t n = strnlen(msg, RT_ERROR_CAPACITY - 1);
  std::memcpy(ctx->error, msg, n);
  ctx->error[n] = '\0';
}

inline void set_error(rt_ctx* ctx, const std::string& msg) noexcept { set_error(ctx, msg.c_str()); }

inline const char* as_is(const char* what) noexcept { return what; }

}  // namespace rt_guard

#define RT_GUARD_BEGIN                   \
  if (ctx == nullptr) return RT_ERR_ARG; \
  try {
#define RT_GUARD_END(clean)                                      \
  }                                                              \
  catch (const rt_guard::ArgError& e) {                          \
    rt_guard::set_error(ctx, e.what());                          \
    return RT_ERR_ARG;                                           \
  }                                                              \
  catch (const c10::Error& e) {                                  \
    rt_guard::set_error(ctx, clean(e.what_without_backtrace())); \
    return RT_ERR_TORCH;                                         \
  }                                                              \
  catch (const std::exception& e) {                              \
    rt_guard::set_error(ctx, clean(e.what()));                   \
    return RT_ERR_STD;                                           \
  }                                                              \
  catch (...) {                                                  \
    rt_guard::set_error(ctx, "unknown C++ exception");           \
    return RT_ERR_UNKNOWN;                                       \
  }                                                              \
  return RT_OK;
