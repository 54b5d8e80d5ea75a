// The RecTok LibTorch shim: a flat C ABI over ATen and autograd (see include/rectok_torch.h).
//
// Every entry point is noexcept and wraps its body in RT_BEGIN/RT_END, which turns any C++
// exception into a status code plus a message in the caller's rt_ctx. Only ATen headers are
// included (not <torch/torch.h>): compile time is all headers.

#include "rectok_torch.h"
#include "fused_cpu.h"
#include "guard.h"
#include "packed_linear.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/Generator.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <ATen/autocast_mode.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/api/include/torch/version.h>

#ifdef RT_WITH_CUDA
#include <ATen/cuda/CUDAGeneratorImpl.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#endif

#include <malloc.h>

#include <atomic>
#include <cstddef>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#define RT_TORCH_AT_LEAST(maj, min) \
  (TORCH_VERSION_MAJOR > (maj) || (TORCH_VERSION_MAJOR == (maj) && TORCH_VERSION_MINOR >= (min)))

// c10::optional became an alias of std::optional in 2.4 and the alias is going away.
#if RT_TORCH_AT_LEAST(2, 4)
#include <optional>
template <class T>
using rt_optional = std::optional<T>;
#define RT_NULLOPT std::nullopt
#else
template <class T>
using rt_optional = c10::optional<T>;
#define RT_NULLOPT c10::nullopt
#endif

// Java lays out rt_ctx from the header's constants; keep the struct and the constants in step.
static_assert(sizeof(rt_ctx) == RT_CTX_SIZE, "rt_ctx size differs from RT_CTX_SIZE");
static_assert(offsetof(rt_ctx, grad_mode) == RT_CTX_GRAD_MODE_OFFSET, "grad_mode offset");
static_assert(offsetof(rt_ctx, autocast) == RT_CTX_AUTOCAST_OFFSET, "autocast offset");
static_assert(offsetof(rt_ctx, error) == RT_CTX_ERROR_OFFSET, "error offset");

struct rt_tensor {
  at::Tensor t;
};
struct rt_generator {
  at::Generator g;
};

namespace {

std::atomic<int64_t> g_live_tensors{0};

// An argument error detected by the shim itself (NULL handle, bad code, short buffer).
using rt_guard::ArgError;
using rt_guard::set_error;

// LibTorch 2.4 replaced the per-backend autocast setters with device-type ones.
#if RT_TORCH_AT_LEAST(2, 4)
bool autocast_enabled(at::DeviceType d) { return at::autocast::is_autocast_enabled(d); }
void autocast_enable(at::DeviceType d, bool on) { at::autocast::set_autocast_enabled(d, on); }
at::ScalarType autocast_dtype(at::DeviceType d) { return at::autocast::get_autocast_dtype(d); }
void autocast_set_dtype(at::DeviceType d, at::ScalarType t) { at::autocast::set_autocast_dtype(d, t); }
#else
bool autocast_enabled(at::DeviceType d) {
  return d == at::kCPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
}
void autocast_enable(at::DeviceType d, bool on) {
  if (d == at::kCPU)
    at::autocast::set_cpu_enabled(on);
  else
    at::autocast::set_enabled(on);
}
at::ScalarType autocast_dtype(at::DeviceType d) {
  return d == at::kCPU ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
}
void autocast_set_dtype(at::DeviceType d, at::ScalarType t) {
  if (d == at::kCPU)
    at::autocast::set_autocast_cpu_dtype(t);
  else
    at::autocast::set_autocast_gpu_dtype(t);
}
#endif

// torch.autocast for one call; restores the thread's previous state on exit.
struct AutocastGuard {
  bool active = false;
  at::DeviceType device = at::kCPU;
  bool prev_enabled = false;
  bool prev_cache = true;
  at::ScalarType prev_dtype = at::kFloat;
  explicit AutocastGuard(int32_t mode) {
    at::ScalarType dtype;
    switch (mode) {
      case RT_AUTOCAST_OFF: return;
      case RT_AUTOCAST_CPU_BF16:
        device = at::kCPU;
        dtype = at::kBFloat16;
        break;
      case RT_AUTOCAST_CUDA_BF16:
        device = at::kCUDA;
        dtype = at::kBFloat16;
        break;
      case RT_AUTOCAST_CUDA_FP16:
        device = at::kCUDA;
        dtype = at::kHalf;
        break;
      default: throw ArgError("invalid autocast mode " + std::to_string(mode));
    }
    prev_enabled = autocast_enabled(device);
    prev_dtype = autocast_dtype(device);
    prev_cache = at::autocast::is_autocast_cache_enabled();
    autocast_enable(device, true);
    autocast_set_dtype(device, dtype);
    at::autocast::set_autocast_cache_enabled(false);
    active = true;
  }
  ~AutocastGuard() {
    if (!active) return;
    autocast_enable(device, prev_enabled);
    autocast_set_dtype(device, prev_dtype);
    at::autocast::set_autocast_cache_enabled(prev_cache);
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;
};

// Selects the caller's autograd and autocast modes for the duration of one call.
struct ModeGuard {
  rt_optional<c10::AutoGradMode> grad;
  rt_optional<c10::InferenceMode> inference;
  AutocastGuard autocast;
  ModeGuard(int32_t mode, int32_t autocast_mode) : autocast(autocast_mode) {
    switch (mode) {
      case RT_GRAD_ENABLED: grad.emplace(true); break;
      case RT_GRAD_DISABLED: grad.emplace(false); break;
      case RT_INFERENCE_MODE: inference.emplace(true); break;
      default: throw ArgError("invalid grad mode " + std::to_string(mode));
    }
  }
};

rt_tensor* wrap(at::Tensor t) {
  auto* h = new rt_tensor{std::move(t)};
  g_live_tensors.fetch_add(1, std::memory_order_relaxed);
  return h;
}

const at::Tensor& T(const rt_tensor* h, const char* what = "tensor") {
  if (h == nullptr) throw ArgError(std::string(what) + " handle is NULL");
  return h->t;
}

rt_optional<at::Tensor> opt(const rt_tensor* h) {
  if (h == nullptr) return RT_NULLOPT;
  return h->t;
}

void put(rt_tensor** out, at::Tensor t) {
  if (out == nullptr) throw ArgError("out pointer is NULL");
  *out = wrap(std::move(t));
}

// (values, indices) results of max/min along a dim.
void put_pair(std::tuple<at::Tensor, at::Tensor> r, rt_tensor** values, rt_tensor** indices) {
  if (values == nullptr || indices == nullptr) throw ArgError("out pointer is NULL");
  *values = wrap(std::get<0>(r));
  *indices = wrap(std::get<1>(r));
}

at::ScalarType scalar_type(int32_t code) {
  switch (code) {
    case RT_F32: return at::kFloat;
    case RT_F64: return at::kDouble;
    case RT_F16: return at::kHalf;
    case RT_BF16: return at::kBFloat16;
    case RT_I64: return at::kLong;
    case RT_I32: return at::kInt;
    case RT_I16: return at::kShort;
    case RT_I8: return at::kChar;
    case RT_U8: return at::kByte;
    case RT_BOOL: return at::kBool;
    default: throw ArgError("invalid dtype code " + std::to_string(code));
  }
}

int32_t dtype_code(at::ScalarType s) {
  switch (s) {
    case at::kFloat: return RT_F32;
    case at::kDouble: return RT_F64;
    case at::kHalf: return RT_F16;
    case at::kBFloat16: return RT_BF16;
    case at::kLong: return RT_I64;
    case at::kInt: return RT_I32;
    case at::kShort: return RT_I16;
    case at::kChar: return RT_I8;
    case at::kByte: return RT_U8;
    case at::kBool: return RT_BOOL;
    default: throw ArgError(std::string("tensor has a dtype outside this ABI: ") + c10::toString(s));
  }
}

at::Device device(int32_t type, int32_t index) {
  switch (type) {
    case RT_DEVICE_CPU: return at::Device(at::kCPU);
    case RT_DEVICE_CUDA: return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
    default: throw ArgError("invalid device type " + std::to_string(type));
  }
}

at::TensorOptions options(int32_t dtype, int32_t device_type, int32_t device_index) {
  return at::TensorOptions().dtype(scalar_type(dtype)).device(device(device_type, device_index));
}

at::IntArrayRef ints(const int64_t* p, int64_t n, const char* what = "shape") {
  if (n < 0) throw ArgError(std::string(what) + " length is negative");
  if (n > 0 && p == nullptr) throw ArgError(std::string(what) + " pointer is NULL");
  return at::IntArrayRef(p, static_cast<size_t>(n));
}

std::vector<at::Tensor> tensor_list(rt_tensor** ts, int64_t n) {
  if (n < 0 || (n > 0 && ts == nullptr)) throw ArgError("tensor list is NULL or negative length");
  std::vector<at::Tensor> v;
  v.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v.push_back(T(ts[i], "list element"));
  return v;
}

rt_optional<at::Generator> gen_opt(const rt_generator* g) {
  if (g == nullptr) return RT_NULLOPT;
  return g->g;
}

// All dims when none were given, so keepdim works for full reductions too.
std::vector<int64_t> reduce_dims(const at::Tensor& t, const int64_t* dims, int64_t n) {
  if (n == 0) {
    std::vector<int64_t> all(static_cast<size_t>(t.dim()));
    for (int64_t i = 0; i < t.dim(); ++i) all[static_cast<size_t>(i)] = i;
    return all;
  }
  auto r = ints(dims, n, "dims");
  return std::vector<int64_t>(r.begin(), r.end());
}

// A double from Java as the Scalar Python would have written: integral values stay integers on
// integer tensors, so `int_tensor.add_(1)` keeps its dtype as in PyTorch.
at::Scalar scalar_for(const at::Tensor& t, double v) {
  if (at::isIntegralType(t.scalar_type(), /*includeBool=*/true) && std::isfinite(v) && std::floor(v) == v &&
      std::fabs(v) < 9.2e18) {
    return at::Scalar(static_cast<int64_t>(v));
  }
  return at::Scalar(v);
}

void copy_string(const std::string& s, char* buf, int64_t cap) {
  if (buf == nullptr || cap <= 0) throw ArgError("string buffer is NULL or empty");
  size_t n = std::min(s.size(), static_cast<size_t>(cap - 1));
  std::memcpy(buf, s.data(), n);
  buf[n] = '\0';
}

at::Tensor attention_math(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                          const rt_optional<at::Tensor>& mask, double dropout_p, bool is_causal, double scale) {
  // softmax(q k^T * scale [+ mask]) v, exactly as the reference computes attention.
  const double s = scale > 0 ? scale : 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  at::Tensor attn = at::matmul(q, k.transpose(-2, -1));
  attn.mul_(s);  // in place: the same float products, one activation fewer
  if (is_causal) {
    auto causal = at::ones({q.size(-2), k.size(-2)}, q.options().dtype(at::kBool)).tril();
    attn = attn.masked_fill(causal.logical_not(), -std::numeric_limits<double>::infinity());
  }
  if (mask.has_value() && mask->defined()) {
    if (mask->scalar_type() == at::kBool) {
      attn = attn.masked_fill(mask->logical_not(), -std::numeric_limits<double>::infinity());
    } else {
      attn = attn + *mask;
    }
  }
  attn = at::softmax(attn, -1);
  if (dropout_p > 0) attn = at::dropout(attn, dropout_p, true);
  return at::matmul(attn, v);
}

}  // namespace

#define RT_BEGIN \
  RT_GUARD_BEGIN \
  ModeGuard rt_mode_guard_(ctx->grad_mode, ctx->autocast);
#define RT_END RT_GUARD_END(rt_guard::as_is)

// Op families, one line each below.
#define RT_UNARY(name, expr)                                                        \
  RT_API rt_status rt_##name(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) noexcept { \
    RT_BEGIN                                                                        \
    const at::Tensor& x = T(t);                                                     \
    put(out, (expr));                                                               \
    RT_END                                                                          \
  }
#define RT_BINARY(name, expr)                                                                     \
  RT_API rt_status rt_##name(rt_ctx* ctx, rt_tensor* a, rt_tensor* b, rt_tensor** out) noexcept { \
    RT_BEGIN                                                                                      \
    const at::Tensor& x = T(a);                                                                   \
    const at::Tensor& y = T(b);                                                                   \
    put(out, (expr));                                                                             \
    RT_END                                                                                        \
  }
#define RT_SCALAR(name, expr)                                                                 \
  RT_API rt_status rt_##name(rt_ctx* ctx, rt_tensor* a, double s, rt_tensor** out) noexcept { \
    RT_BEGIN                                                                                  \
    const at::Tensor& x = T(a);                                                               \
    put(out, (expr));                                                                         \
    RT_END                                                                                    \
  }

// ---- runtime ----

RT_API int32_t rt_abi_version(void) noexcept { return RT_ABI_VERSION; }
RT_API void rt_noop(void) noexcept {}
RT_API int64_t rt_live_tensors(void) noexcept { return g_live_tensors.load(std::memory_order_relaxed); }
RT_API int64_t rt_fused_calls(void) noexcept { return rt_fused::calls(); }

RT_API rt_status rt_torch_version(rt_ctx* ctx, char* buf, int64_t cap) noexcept {
  RT_BEGIN
  copy_string(TORCH_VERSION, buf, cap);
  RT_END
}

RT_API rt_status rt_build_config(rt_ctx* ctx, char* buf, int64_t cap) noexcept {
  RT_BEGIN
  copy_string(at::show_config() + "\n" + at::get_parallel_info(), buf, cap);
  RT_END
}

RT_API rt_status rt_set_num_threads(rt_ctx* ctx, int32_t n) noexcept {
  RT_BEGIN
  if (n < 1) throw ArgError("thread count must be >= 1, got " + std::to_string(n));
  at::set_num_threads(n);
  RT_END
}

RT_API rt_status rt_get_num_threads(rt_ctx* ctx, int32_t* out) noexcept {
  RT_BEGIN
  if (!out) throw ArgError("out is NULL");
  *out = at::get_num_threads();
  RT_END
}

RT_API rt_status rt_configure_malloc(rt_ctx* ctx, int64_t mmap_threshold, int64_t trim_threshold,
                                     int64_t top_pad) noexcept {
  RT_BEGIN
  // Keeping freed memory avoids re-faulting every large activation (see docs/runtime.md#heap-retention).
  if (mmap_threshold >= 0 &&
      mallopt(M_MMAP_THRESHOLD, static_cast<int>(std::min<int64_t>(mmap_threshold, INT32_MAX))) != 1)
    throw ArgError("mallopt(M_MMAP_THRESHOLD) refused");
  if (trim_threshold >= 0 &&
      mallopt(M_TRIM_THRESHOLD, static_cast<int>(std::min<int64_t>(trim_threshold, INT32_MAX))) != 1)
    throw ArgError("mallopt(M_TRIM_THRESHOLD) refused");
  if (top_pad >= 0 && mallopt(M_TOP_PAD, static_cast<int>(std::min<int64_t>(top_pad, INT32_MAX))) != 1)
    throw ArgError("mallopt(M_TOP_PAD) refused");
  RT_END
}

RT_API rt_status rt_cuda_device_count(rt_ctx* ctx, int32_t* out) noexcept {
  RT_BEGIN
  if (!out) throw ArgError("out is NULL");
  *out = at::hasCUDA() ? static_cast<int32_t>(at::detail::getCUDAHooks().getNumGPUs()) : 0;
  RT_END
}

RT_API rt_status rt_cuda_synchronize(rt_ctx* ctx, int32_t dev) noexcept {
  RT_BEGIN
#ifdef RT_WITH_CUDA
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(dev));
  c10::cuda::device_synchronize();
#else
  static_cast<void>(dev);
  throw ArgError("this shim was built without CUDA");
#endif
  RT_END
}

RT_API rt_status rt_cuda_memory_stats(rt_ctx* ctx, int32_t dev, int64_t* allocated, int64_t* reserved) noexcept {
  RT_BEGIN
  if (!allocated || !reserved) throw ArgError("out is NULL");
#ifdef RT_WITH_CUDA
  // Index 0 is StatType::AGGREGATE in every version; the enum itself moved namespaces in 2.x.
  auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(dev));
  *allocated = stats.allocated_bytes[0].current;
  *reserved = stats.reserved_bytes[0].current;
#else
  static_cast<void>(dev);
  throw ArgError("this shim was built without CUDA");
#endif
  RT_END
}

RT_API rt_status rt_cuda_empty_cache(rt_ctx* ctx) noexcept {
  RT_BEGIN
#ifdef RT_WITH_CUDA
  c10::cuda::CUDACachingAllocator::emptyCache();
#else
  throw ArgError("this shim was built without CUDA");
#endif
  RT_END
}

RT_API rt_status rt_manual_seed(rt_ctx* ctx, uint64_t seed) noexcept {
  RT_BEGIN
  {
    auto g = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(g.mutex());
    g.set_current_seed(seed);
  }
#ifdef RT_WITH_CUDA
  for (int i = 0; i < static_cast<int>(c10::cuda::device_count()); ++i) {
    auto g = at::cuda::detail::getDefaultCUDAGenerator(static_cast<c10::DeviceIndex>(i));
    std::lock_guard<std::mutex> lock(g.mutex());
    g.set_current_seed(seed);
  }
#endif
  RT_END
}

// ---- generators ----

RT_API rt_status rt_generator_new(rt_ctx* ctx, int32_t device_type, int32_t device_index, uint64_t seed,
                                  rt_generator** out) noexcept {
  RT_BEGIN
  if (!out) throw ArgError("out is NULL");
  at::Generator g;
  if (device_type == RT_DEVICE_CPU) {
    g = at::make_generator<at::CPUGeneratorImpl>(seed);
  } else if (device_type == RT_DEVICE_CUDA) {
#ifdef RT_WITH_CUDA
    int32_t idx = device_index < 0 ? static_cast<int32_t>(c10::cuda::current_device()) : device_index;
    g = at::make_generator<at::CUDAGeneratorImpl>(static_cast<c10::DeviceIndex>(idx));
    g.set_current_seed(seed);
#else
    (void)device_index;
    throw ArgError("this shim was built without CUDA");
#endif
  } else {
    throw ArgError("invalid device type " + std::to_string(device_type));
  }
  *out = new rt_generator{std::move(g)};
  RT_END
}

RT_API void rt_generator_free(rt_generator* gen) noexcept { delete gen; }

RT_API rt_status rt_generator_manual_seed(rt_ctx* ctx, rt_generator* gen, uint64_t seed) noexcept {
  RT_BEGIN
  if (!gen) throw ArgError("generator handle is NULL");
  std::lock_guard<std::mutex> lock(gen->g.mutex());
  gen->g.set_current_seed(seed);
  RT_END
}

RT_API rt_status rt_generator_get_state(rt_ctx* ctx, rt_generator* gen, rt_tensor** out) noexcept {
  RT_BEGIN
  if (!gen) throw ArgError("generator handle is NULL");
  std::lock_guard<std::mutex> lock(gen->g.mutex());
  put(out, gen->g.get_state());
  RT_END
}

RT_API rt_status rt_generator_set_state(rt_ctx* ctx, rt_generator* gen, rt_tensor* state) noexcept {
  RT_BEGIN
  if (!gen) throw ArgError("generator handle is NULL");
  std::lock_guard<std::mutex> lock(gen->g.mutex());
  gen->g.set_state(T(state, "state"));
  RT_END
}

// ---- tensor lifecycle, metadata, host transfer ----

RT_API void rt_tensor_free(rt_tensor* t) noexcept {
  if (t == nullptr) return;
  g_live_tensors.fetch_sub(1, std::memory_order_relaxed);
  delete t;
}

RT_API rt_status rt_tensor_meta(rt_ctx* ctx, rt_tensor* t, int64_t* meta, int64_t cap) noexcept {
  RT_BEGIN
  const at::Tensor& x = T(t);
  if (!x.defined()) throw ArgError("tensor is undefined");
  const int64_t nd = x.dim();
  if (meta == nullptr || cap < 5 + nd) throw ArgError("metadata buffer too small");
  meta[0] = dtype_code(x.scalar_type());
  meta[1] = x.is_cuda() ? RT_DEVICE_CUDA : RT_DEVICE_CPU;
  meta[2] = x.is_cuda() ? x.device().index() : -1;
  meta[3] = x.requires_grad() ? 1 : 0;
  meta[4] = nd;
  for (int64_t i = 0; i < nd; ++i) meta[5 + i] = x.size(i);
  RT_END
}

RT_API rt_status rt_tensor_strides(rt_ctx* ctx, rt_tensor* t, int64_t* out, int64_t cap) noexcept {
  RT_BEGIN
  const at::Tensor& x = T(t);
  if (out == nullptr || cap < x.dim()) throw ArgError("strides buffer too small");
  for (int64_t i = 0; i < x.dim(); ++i) out[i] = x.stride(i);
  RT_END
}

RT_API rt_status rt_tensor_alias(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, T(t));
  RT_END
}

RT_API rt_status rt_from_data(rt_ctx* ctx, void* data, int64_t nbytes, int32_t dtype, int64_t* shape, int64_t ndim,
                              int32_t device_type, int32_t device_index, rt_tensor** out) noexcept {
  RT_BEGIN
  auto sizes = ints(shape, ndim);
  auto st = scalar_type(dtype);
  const int64_t numel = c10::multiply_integers(sizes);
  for (auto s : sizes)
    if (s < 0) throw ArgError("negative size in shape");
  if (nbytes != numel * static_cast<int64_t>(c10::elementSize(st)))
    throw ArgError("buffer holds " + std::to_string(nbytes) + " bytes, shape needs " +
                   std::to_string(numel * static_cast<int64_t>(c10::elementSize(st))));
  if (numel > 0 && data == nullptr) throw ArgError("data pointer is NULL");
  at::Tensor t = numel == 0 ? at::empty(sizes, at::TensorOptions().dtype(st))
                            : at::from_blob(data, sizes, at::TensorOptions().dtype(st)).clone();
  if (device_type != RT_DEVICE_CPU) t = t.to(device(device_type, device_index));
  put(out, std::move(t));
  RT_END
}

RT_API rt_status rt_from_storage(rt_ctx* ctx, void* data, int64_t nbytes, int32_t dtype, int64_t* shape,
                                 int64_t* strides, int64_t ndim, int64_t storage_offset, rt_tensor** out) noexcept {
  RT_BEGIN
  auto st = scalar_type(dtype);
  const int64_t es = static_cast<int64_t>(c10::elementSize(st));
  if (nbytes < 0 || nbytes % es != 0) throw ArgError("storage size is not a multiple of the element size");
  if (nbytes > 0 && data == nullptr) throw ArgError("data pointer is NULL");
  auto sizes = ints(shape, ndim);
  auto steps = ints(strides, ndim, "strides");
  // Bounds of the view, checked here with overflow-safe arithmetic: as_strided's own check
  // (checkInBoundsForStorage) overflows on a huge storage offset or extent and then reads
  // outside the storage. Checkpoint files are untrusted input.
  if (storage_offset < 0) throw ArgError("negative storage offset " + std::to_string(storage_offset));
  bool empty = false;
  for (int64_t i = 0; i < ndim; ++i) {
    if (sizes[i] < 0) throw ArgError("negative size in shape");
    if (steps[i] < 0) throw ArgError("negative stride");
    empty = empty || sizes[i] == 0;
  }
  if (!empty) {
    int64_t last = storage_offset;  // index of the view's last element
    for (int64_t i = 0; i < ndim; ++i) {
      int64_t span = 0;
      if (__builtin_mul_overflow(sizes[i] - 1, steps[i], &span) || __builtin_add_overflow(last, span, &last))
        throw ArgError(c10::str("view with sizes ", sizes, ", strides ", steps, " and storage offset ", storage_offset,
                                " overflows"));
    }
    if (last >= nbytes / es)
      throw ArgError(c10::str("view with sizes ", sizes, ", strides ", steps, " and storage offset ", storage_offset,
                              " reaches element ", last, ", out of bounds for storage of size ", nbytes / es,
                              " elements"));
  }
  auto storage = at::from_blob(data, {nbytes / es}, at::TensorOptions().dtype(st));
  auto view = storage.as_strided(sizes, steps, storage_offset);
  put(out, view.clone(at::MemoryFormat::Contiguous));
  RT_END
}

RT_API rt_status rt_copy_to_host(rt_ctx* ctx, rt_tensor* t, void* dst, int64_t nbytes) noexcept {
  RT_BEGIN
  at::Tensor c = T(t).detach().to(at::kCPU).contiguous();
  const int64_t need = static_cast<int64_t>(c.nbytes());
  if (nbytes != need)
    throw ArgError("host buffer holds " + std::to_string(nbytes) + " bytes, tensor has " + std::to_string(need));
  if (need > 0) {
    if (dst == nullptr) throw ArgError("destination is NULL");
    std::memcpy(dst, c.data_ptr(), static_cast<size_t>(need));
  }
  RT_END
}

RT_API rt_status rt_item(rt_ctx* ctx, rt_tensor* t, double* out) noexcept {
  RT_BEGIN
  if (!out) throw ArgError("out is NULL");
  *out = T(t).item<double>();
  RT_END
}

RT_API rt_status rt_item_int(rt_ctx* ctx, rt_tensor* t, int64_t* out) noexcept {
  RT_BEGIN
  if (!out) throw ArgError("out is NULL");
  *out = T(t).item<int64_t>();
  RT_END
}

RT_API rt_status rt_equal(rt_ctx* ctx, rt_tensor* a, rt_tensor* b, int32_t* out) noexcept {
  RT_BEGIN
  if (!out) throw ArgError("out is NULL");
  const at::Tensor& x = T(a);
  const at::Tensor& y = T(b);
  *out = (x.scalar_type() == y.scalar_type() && x.sizes() == y.sizes() && at::equal(x, y)) ? 1 : 0;
  RT_END
}

RT_API rt_status rt_to(rt_ctx* ctx, rt_tensor* t, int32_t dtype, int32_t device_type, int32_t device_index,
                       int32_t copy, rt_tensor** out) noexcept {
  RT_BEGIN
  const at::Tensor& x = T(t);
  auto st = dtype < 0 ? x.scalar_type() : scalar_type(dtype);
  auto dev = device_type < 0 ? x.device() : device(device_type, device_index);
  put(out, x.to(dev, st, /*non_blocking=*/false, copy != 0));
  RT_END
}

RT_UNARY(clone, x.clone())
RT_UNARY(detach, x.detach())

// ---- creation ----

RT_API rt_status rt_zeros(rt_ctx* ctx, int64_t* shape, int64_t ndim, int32_t dtype, int32_t dt, int32_t di,
                          rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::zeros(ints(shape, ndim), options(dtype, dt, di)));
  RT_END
}

RT_API rt_status rt_ones(rt_ctx* ctx, int64_t* shape, int64_t ndim, int32_t dtype, int32_t dt, int32_t di,
                         rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::ones(ints(shape, ndim), options(dtype, dt, di)));
  RT_END
}

RT_API rt_status rt_full(rt_ctx* ctx, int64_t* shape, int64_t ndim, double value, int32_t dtype, int32_t dt, int32_t di,
                         rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::full(ints(shape, ndim), value, options(dtype, dt, di)));
  RT_END
}

RT_API rt_status rt_arange(rt_ctx* ctx, double start, double end, double step, int32_t dtype, int32_t dt, int32_t di,
                           rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::arange(start, end, step, options(dtype, dt, di)));
  RT_END
}

RT_API rt_status rt_linspace(rt_ctx* ctx, double start, double end, int64_t steps, int32_t dtype, int32_t dt,
                             int32_t di, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::linspace(start, end, steps, options(dtype, dt, di)));
  RT_END
}

RT_API rt_status rt_randn(rt_ctx* ctx, rt_generator* gen, int64_t* shape, int64_t ndim, int32_t dtype, int32_t dt,
                          int32_t di, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::randn(ints(shape, ndim), gen_opt(gen), options(dtype, dt, di)));
  RT_END
}

RT_API rt_status rt_rand(rt_ctx* ctx, rt_generator* gen, int64_t* shape, int64_t ndim, int32_t dtype, int32_t dt,
                         int32_t di, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::rand(ints(shape, ndim), gen_opt(gen), options(dtype, dt, di)));
  RT_END
}

RT_API rt_status rt_randint(rt_ctx* ctx, rt_generator* gen, int64_t low, int64_t high, int64_t* shape, int64_t ndim,
                            int32_t dtype, int32_t dt, int32_t di, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::randint(low, high, ints(shape, ndim), gen_opt(gen), options(dtype, dt, di)));
  RT_END
}

RT_API rt_status rt_randperm(rt_ctx* ctx, rt_generator* gen, int64_t n, int32_t dtype, int32_t dt, int32_t di,
                             rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::randperm(n, gen_opt(gen), options(dtype, dt, di)));
  RT_END
}

RT_API rt_status rt_normal_(rt_ctx* ctx, rt_tensor* self, rt_generator* gen, double mean, double std) noexcept {
  RT_BEGIN
  T(self).normal_(mean, std, gen_opt(gen));
  RT_END
}

RT_API rt_status rt_uniform_(rt_ctx* ctx, rt_tensor* self, rt_generator* gen, double from, double to) noexcept {
  RT_BEGIN
  T(self).uniform_(from, to, gen_opt(gen));
  RT_END
}

RT_API rt_status rt_bernoulli(rt_ctx* ctx, rt_tensor* probs, rt_generator* gen, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::bernoulli(T(probs), gen_opt(gen)));
  RT_END
}

// ---- views and shape ops ----

RT_API rt_status rt_reshape(rt_ctx* ctx, rt_tensor* t, int64_t* shape, int64_t ndim, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, T(t).reshape(ints(shape, ndim)));
  RT_END
}
RT_API rt_status rt_view(rt_ctx* ctx, rt_tensor* t, int64_t* shape, int64_t ndim, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, T(t).view(ints(shape, ndim)));
  RT_END
}
RT_API rt_status rt_permute(rt_ctx* ctx, rt_tensor* t, int64_t* dims, int64_t ndim, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, T(t).permute(ints(dims, ndim, "dims")));
  RT_END
}
RT_API rt_status rt_transpose(rt_ctx* ctx, rt_tensor* t, int64_t d0, int64_t d1, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, T(t).transpose(d0, d1));
  RT_END
}
RT_UNARY(contiguous, x.contiguous())
RT_API rt_status rt_slice(rt_ctx* ctx, rt_tensor* t, int64_t dim, int64_t start, int64_t end, int64_t step,
                          rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, T(t).slice(dim, start, end, step));
  RT_END
}
RT_API rt_status rt_narrow(rt_ctx* ctx, rt_tensor* t, int64_t dim, int64_t start, int64_t length,
                           rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, T(t).narrow(dim, start, length));
  RT_END
}
RT_API rt_status rt_select(rt_ctx* ctx, rt_tensor* t, int64_t dim, int64_t index, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, T(t).select(dim, index));
  RT_END
}
RT_API rt_status rt_expand(rt_ctx* ctx, rt_tensor* t, int64_t* shape, int64_t ndim, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, T(t).expand(ints(shape, ndim)));
  RT_END
}
RT_API rt_status rt_repeat(rt_ctx* ctx, rt_tensor* t, int64_t* repeats, int64_t ndim, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, T(t).repeat(ints(repeats, ndim, "repeats")));
  RT_END
}
RT_API rt_status rt_unsqueeze(rt_ctx* ctx, rt_tensor* t, int64_t dim, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, T(t).unsqueeze(dim));
  RT_END
}
RT_API rt_status rt_squeeze(rt_ctx* ctx, rt_tensor* t, int64_t dim, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, T(t).squeeze(dim));
  RT_END
}
RT_API rt_status rt_flatten(rt_ctx* ctx, rt_tensor* t, int64_t start_dim, int64_t end_dim, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, T(t).flatten(start_dim, end_dim));
  RT_END
}
RT_API rt_status rt_flip(rt_ctx* ctx, rt_tensor* t, int64_t* dims, int64_t ndim, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, T(t).flip(ints(dims, ndim, "dims")));
  RT_END
}
RT_API rt_status rt_split_with_sizes(rt_ctx* ctx, rt_tensor* t, int64_t* sizes, int64_t n, int64_t dim,
                                     rt_tensor** outs) noexcept {
  RT_BEGIN
  if (outs == nullptr) throw ArgError("outs is NULL");
  auto parts = T(t).split_with_sizes(ints(sizes, n, "sizes"), dim);
  if (static_cast<int64_t>(parts.size()) != n) throw ArgError("split produced an unexpected number of parts");
  for (int64_t i = 0; i < n; ++i) outs[i] = nullptr;
  for (int64_t i = 0; i < n; ++i) outs[i] = wrap(parts[static_cast<size_t>(i)]);
  RT_END
}
RT_API rt_status rt_cat(rt_ctx* ctx, rt_tensor** tensors, int64_t n, int64_t dim, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::cat(tensor_list(tensors, n), dim));
  RT_END
}
RT_API rt_status rt_stack(rt_ctx* ctx, rt_tensor** tensors, int64_t n, int64_t dim, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::stack(tensor_list(tensors, n), dim));
  RT_END
}
RT_API rt_status rt_gather(rt_ctx* ctx, rt_tensor* t, int64_t dim, rt_tensor* index, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::gather(T(t), dim, T(index, "index")));
  RT_END
}
RT_API rt_status rt_scatter(rt_ctx* ctx, rt_tensor* t, int64_t dim, rt_tensor* index, rt_tensor* src,
                            rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::scatter(T(t), dim, T(index, "index"), T(src, "src")));
  RT_END
}
RT_API rt_status rt_index_select(rt_ctx* ctx, rt_tensor* t, int64_t dim, rt_tensor* index, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::index_select(T(t), dim, T(index, "index")));
  RT_END
}
RT_API rt_status rt_argsort(rt_ctx* ctx, rt_tensor* t, int64_t dim, int32_t descending, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::argsort(T(t), dim, descending != 0));
  RT_END
}
RT_API rt_status rt_where(rt_ctx* ctx, rt_tensor* condition, rt_tensor* a, rt_tensor* b, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::where(T(condition, "condition"), T(a), T(b)));
  RT_END
}
RT_API rt_status rt_pixel_shuffle(rt_ctx* ctx, rt_tensor* t, int64_t factor, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::pixel_shuffle(T(t), factor));
  RT_END
}
RT_API rt_status rt_pixel_unshuffle(rt_ctx* ctx, rt_tensor* t, int64_t factor, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::pixel_unshuffle(T(t), factor));
  RT_END
}

// ---- elementwise ----

RT_API rt_status rt_add(rt_ctx* ctx, rt_tensor* a, rt_tensor* b, double alpha, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::add(T(a), T(b), alpha));
  RT_END
}
RT_API rt_status rt_sub(rt_ctx* ctx, rt_tensor* a, rt_tensor* b, double alpha, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::sub(T(a), T(b), alpha));
  RT_END
}
RT_API rt_status rt_addcmul(rt_ctx* ctx, rt_tensor* self, rt_tensor* t1, rt_tensor* t2, double value,
                            rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::addcmul(T(self), T(t1, "tensor1"), T(t2, "tensor2"), value));
  RT_END
}
RT_BINARY(mul, at::mul(x, y))
RT_BINARY(div, at::div(x, y))
RT_BINARY(pow, at::pow(x, y))
RT_BINARY(maximum, at::maximum(x, y))
RT_BINARY(minimum, at::minimum(x, y))
RT_BINARY(matmul, at::matmul(x, y))
RT_BINARY(bmm, at::bmm(x, y))
RT_BINARY(embedding, at::embedding(x, y))
RT_BINARY(mse_loss, at::mse_loss(x, y))
RT_BINARY(cross_entropy, at::cross_entropy_loss(x, y))
RT_SCALAR(add_scalar, at::add(x, scalar_for(x, s)))
RT_SCALAR(mul_scalar, at::mul(x, scalar_for(x, s)))
RT_SCALAR(div_scalar, at::div(x, s))
RT_SCALAR(pow_scalar, at::pow(x, scalar_for(x, s)))
RT_SCALAR(rsub_scalar, at::rsub(x, scalar_for(x, s)))
RT_SCALAR(leaky_relu, at::leaky_relu(x, s))

namespace {
// B is a tensor or a Scalar: ATen overloads every comparison for both.
template <class B>
at::Tensor compare(int32_t op, const at::Tensor& a, const B& b) {
  switch (op) {
    case RT_CMP_EQ: return at::eq(a, b);
    case RT_CMP_NE: return at::ne(a, b);
    case RT_CMP_LT: return at::lt(a, b);
    case RT_CMP_LE: return at::le(a, b);
    case RT_CMP_GT: return at::gt(a, b);
    case RT_CMP_GE: return at::ge(a, b);
    default: throw ArgError("invalid comparison " + std::to_string(op));
  }
}
rt_optional<at::Scalar> bound(double v, int32_t has) {
  if (!has) return RT_NULLOPT;
  return at::Scalar(v);
}
}  // namespace

RT_API rt_status rt_compare(rt_ctx* ctx, int32_t op, rt_tensor* a, rt_tensor* b, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, compare(op, T(a), T(b)));
  RT_END
}
RT_API rt_status rt_compare_scalar(rt_ctx* ctx, int32_t op, rt_tensor* a, double b, rt_tensor** out) noexcept {
  RT_BEGIN
  const at::Tensor& x = T(a);
  put(out, compare(op, x, scalar_for(x, b)));
  RT_END
}
RT_API rt_status rt_clamp(rt_ctx* ctx, rt_tensor* t, double min, double max, int32_t has_min, int32_t has_max,
                          rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::clamp(T(t), bound(min, has_min), bound(max, has_max)));
  RT_END
}
RT_API rt_status rt_lerp(rt_ctx* ctx, rt_tensor* a, rt_tensor* b, double weight, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::lerp(T(a), T(b), weight));
  RT_END
}

RT_UNARY(neg, at::neg(x))
RT_UNARY(abs, at::abs(x))
RT_UNARY(sqrt, at::sqrt(x))
RT_UNARY(rsqrt, at::rsqrt(x))
RT_UNARY(exp, at::exp(x))
RT_UNARY(log, at::log(x))
RT_UNARY(sin, at::sin(x))
RT_UNARY(cos, at::cos(x))
RT_UNARY(tanh, at::tanh(x))
RT_UNARY(sigmoid, at::sigmoid(x))
RT_UNARY(relu, at::relu(x))
RT_UNARY(silu, at::silu(x))
RT_UNARY(erf, at::erf(x))
RT_UNARY(erfinv, at::erfinv(x))
RT_UNARY(floor, at::floor(x))
RT_UNARY(round, at::round(x))
RT_UNARY(sign, at::sign(x))
RT_UNARY(logical_not, at::logical_not(x))
RT_UNARY(isfinite, at::isfinite(x))
RT_UNARY(max_all, at::max(x))
RT_UNARY(min_all, at::min(x))

RT_API rt_status rt_gelu(rt_ctx* ctx, rt_tensor* t, int32_t tanh_approximation, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::gelu(T(t), tanh_approximation ? "tanh" : "none"));
  RT_END
}

// ---- reductions ----

RT_API rt_status rt_sum(rt_ctx* ctx, rt_tensor* t, int64_t* dims, int64_t ndim, int32_t keepdim,
                        rt_tensor** out) noexcept {
  RT_BEGIN
  const at::Tensor& x = T(t);
  put(out, (ndim == 0 && !keepdim) ? at::sum(x) : at::sum(x, reduce_dims(x, dims, ndim), keepdim != 0));
  RT_END
}
RT_API rt_status rt_mean(rt_ctx* ctx, rt_tensor* t, int64_t* dims, int64_t ndim, int32_t keepdim,
                         rt_tensor** out) noexcept {
  RT_BEGIN
  const at::Tensor& x = T(t);
  put(out, (ndim == 0 && !keepdim) ? at::mean(x) : at::mean(x, reduce_dims(x, dims, ndim), keepdim != 0));
  RT_END
}
RT_API rt_status rt_var(rt_ctx* ctx, rt_tensor* t, int64_t* dims, int64_t ndim, int64_t correction, int32_t keepdim,
                        rt_tensor** out) noexcept {
  RT_BEGIN
  const at::Tensor& x = T(t);
  auto d = reduce_dims(x, dims, ndim);
#if RT_TORCH_AT_LEAST(2, 0)
  put(out, at::var(x, at::OptionalIntArrayRef(d), rt_optional<at::Scalar>(at::Scalar(correction)), keepdim != 0));
#else
  put(out, at::var(x, at::OptionalIntArrayRef(d), rt_optional<int64_t>(correction), keepdim != 0));
#endif
  RT_END
}
RT_API rt_status rt_vector_norm(rt_ctx* ctx, rt_tensor* t, double ord, int64_t* dims, int64_t ndim, int32_t keepdim,
                                rt_tensor** out) noexcept {
  RT_BEGIN
  const at::Tensor& x = T(t);
  auto d = reduce_dims(x, dims, ndim);
  put(out, at::linalg_vector_norm(x, ord, at::OptionalIntArrayRef(d), keepdim != 0, RT_NULLOPT));
  RT_END
}
RT_API rt_status rt_max_dim(rt_ctx* ctx, rt_tensor* t, int64_t dim, int32_t keepdim, rt_tensor** values,
                            rt_tensor** indices) noexcept {
  RT_BEGIN
  put_pair(at::max(T(t), dim, keepdim != 0), values, indices);
  RT_END
}
RT_API rt_status rt_min_dim(rt_ctx* ctx, rt_tensor* t, int64_t dim, int32_t keepdim, rt_tensor** values,
                            rt_tensor** indices) noexcept {
  RT_BEGIN
  put_pair(at::min(T(t), dim, keepdim != 0), values, indices);
  RT_END
}
RT_API rt_status rt_argmax(rt_ctx* ctx, rt_tensor* t, int64_t dim, int32_t keepdim, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::argmax(T(t), dim, keepdim != 0));
  RT_END
}
RT_API rt_status rt_cumsum(rt_ctx* ctx, rt_tensor* t, int64_t dim, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::cumsum(T(t), dim));
  RT_END
}

// ---- neural-network functions ----

RT_API rt_status rt_linear(rt_ctx* ctx, rt_tensor* input, rt_tensor* weight, rt_tensor* bias,
                           rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::linear(T(input, "input"), T(weight, "weight"), opt(bias)));
  RT_END
}

// --- issue 13: Linear on packed weights (packed_linear.cpp) ---
namespace {
at::ScalarType packing_dtype(int32_t dtype) {
  if (dtype == RT_F32) return at::kFloat;
  if (dtype == RT_BF16) return at::kBFloat16;
  throw ArgError("packed linear: dtype must be RT_F32 or RT_BF16, got " + std::to_string(dtype));
}
}  // namespace

RT_API rt_status rt_linear_packing(rt_ctx* ctx, int32_t dtype, char* buf, int64_t cap) noexcept {
  RT_BEGIN
  copy_string(rt_packed::implementation(packing_dtype(dtype)), buf, cap);
  RT_END
}

RT_API rt_status rt_linear_pack_weight(rt_ctx* ctx, rt_tensor* weight, int32_t dtype, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, rt_packed::pack(T(weight, "weight"), packing_dtype(dtype)));
  RT_END
}

RT_API rt_status rt_linear_packed(rt_ctx* ctx, rt_tensor* input, rt_tensor* packed, rt_tensor* bias,
                                  int64_t out_features, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, rt_packed::linear(T(input, "input"), T(packed, "packed"), bias == nullptr ? at::Tensor() : bias->t,
                             out_features));
  RT_END
}

RT_API rt_status rt_conv2d(rt_ctx* ctx, rt_tensor* input, rt_tensor* weight, rt_tensor* bias, int64_t stride_h,
                           int64_t stride_w, int64_t pad_h, int64_t pad_w, int64_t dilation_h, int64_t dilation_w,
                           int64_t groups, rt_tensor** out) noexcept {
  RT_BEGIN
  const int64_t stride[2] = {stride_h, stride_w};
  const int64_t pad[2] = {pad_h, pad_w};
  const int64_t dil[2] = {dilation_h, dilation_w};
  put(out, at::conv2d(T(input, "input"), T(weight, "weight"), opt(bias), at::IntArrayRef(stride, 2),
                      at::IntArrayRef(pad, 2), at::IntArrayRef(dil, 2), groups));
  RT_END
}

RT_API rt_status rt_interpolate(rt_ctx* ctx, rt_tensor* input, int64_t out_h, int64_t out_w, int32_t mode,
                                int32_t align_corners, int32_t antialias, rt_tensor** out) noexcept {
  RT_BEGIN
  const at::Tensor& x = T(input, "input");
  if (x.dim() != 4)
    throw ArgError("interpolate expects a 4-D (N, C, H, W) input, got " + std::to_string(x.dim()) + "-D");
  const int64_t size[2] = {out_h, out_w};
  at::IntArrayRef sz(size, 2);
  const bool ac = align_corners != 0;
  switch (mode) {
    case RT_INTERP_NEAREST:
      if (antialias || ac) throw ArgError("nearest interpolation takes neither antialias nor align_corners");
      put(out, at::upsample_nearest2d(x, sz, RT_NULLOPT, RT_NULLOPT));
      break;
    case RT_INTERP_BILINEAR:
      put(out, antialias ? at::_upsample_bilinear2d_aa(x, sz, ac, RT_NULLOPT, RT_NULLOPT)
                         : at::upsample_bilinear2d(x, sz, ac, RT_NULLOPT, RT_NULLOPT));
      break;
    case RT_INTERP_BICUBIC:
      put(out, antialias ? at::_upsample_bicubic2d_aa(x, sz, ac, RT_NULLOPT, RT_NULLOPT)
                         : at::upsample_bicubic2d(x, sz, ac, RT_NULLOPT, RT_NULLOPT));
      break;
    default: throw ArgError("invalid interpolation mode " + std::to_string(mode));
  }
  RT_END
}

RT_API rt_status rt_avg_pool2d(rt_ctx* ctx, rt_tensor* input, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                               int64_t ph, int64_t pw, int32_t ceil_mode, int32_t count_include_pad,
                               rt_tensor** out) noexcept {
  RT_BEGIN
  const int64_t k[2] = {kh, kw}, s[2] = {sh, sw}, p[2] = {ph, pw};
  put(out, at::avg_pool2d(T(input, "input"), at::IntArrayRef(k, 2), at::IntArrayRef(s, 2), at::IntArrayRef(p, 2),
                          ceil_mode != 0, count_include_pad != 0, RT_NULLOPT));
  RT_END
}

RT_API rt_status rt_max_pool2d(rt_ctx* ctx, rt_tensor* input, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                               int64_t ph, int64_t pw, int32_t ceil_mode, rt_tensor** out) noexcept {
  RT_BEGIN
  const int64_t k[2] = {kh, kw}, s[2] = {sh, sw}, p[2] = {ph, pw}, d[2] = {1, 1};
  put(out, at::max_pool2d(T(input, "input"), at::IntArrayRef(k, 2), at::IntArrayRef(s, 2), at::IntArrayRef(p, 2),
                          at::IntArrayRef(d, 2), ceil_mode != 0));
  RT_END
}

RT_API rt_status rt_adaptive_avg_pool2d(rt_ctx* ctx, rt_tensor* input, int64_t out_h, int64_t out_w,
                                        rt_tensor** out) noexcept {
  RT_BEGIN
  const int64_t size[2] = {out_h, out_w};
  put(out, at::adaptive_avg_pool2d(T(input, "input"), at::IntArrayRef(size, 2)));
  RT_END
}

RT_API rt_status rt_softmax(rt_ctx* ctx, rt_tensor* t, int64_t dim, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::softmax(T(t), dim));
  RT_END
}
RT_API rt_status rt_log_softmax(rt_ctx* ctx, rt_tensor* t, int64_t dim, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::log_softmax(T(t), dim));
  RT_END
}

RT_API rt_status rt_layer_norm(rt_ctx* ctx, rt_tensor* input, int64_t* normalized_shape, int64_t ndim,
                               rt_tensor* weight, rt_tensor* bias, double eps, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out,
      at::layer_norm(T(input, "input"), ints(normalized_shape, ndim, "normalized_shape"), opt(weight), opt(bias), eps));
  RT_END
}

RT_API rt_status rt_rms_norm(rt_ctx* ctx, rt_tensor* input, int64_t* normalized_shape, int64_t ndim, rt_tensor* weight,
                             double eps, rt_tensor** out) noexcept {
  RT_BEGIN
  const at::Tensor& x = T(input, "input");
  auto ns = ints(normalized_shape, ndim, "normalized_shape");
  if (ndim < 1 || ndim > x.dim()) throw ArgError("normalized_shape must cover 1..dim trailing dims");
  for (int64_t i = 0; i < ndim; ++i)
    if (x.size(x.dim() - ndim + i) != ns[static_cast<size_t>(i)])
      throw ArgError("rms_norm: normalized_shape does not match the input's trailing dims");
  // x * rsqrt(mean(x^2) + eps) * w: the reference's float formula, on every LibTorch version
  // (2.4's fused at::rms_norm differs in the last bits).
  at::Tensor fused;
  if (ndim == 1 && rt_fused::rms_norm(x, weight != nullptr ? &weight->t : nullptr, eps, fused)) {
    put(out, std::move(fused));
    return RT_OK;
  }
  std::vector<int64_t> dims;
  for (int64_t i = x.dim() - ndim; i < x.dim(); ++i) dims.push_back(i);
  at::Tensor y = x * at::rsqrt(x.pow(2).mean(dims, /*keepdim=*/true) + eps);
  if (weight != nullptr) y = y * weight->t;
  put(out, std::move(y));
  RT_END
}

RT_API rt_status rt_modulate(rt_ctx* ctx, rt_tensor* input, rt_tensor* shift, rt_tensor* scale,
                             rt_tensor** out) noexcept {
  RT_BEGIN
  const at::Tensor& x = T(input, "input");
  const at::Tensor& sh = T(shift, "shift");
  const at::Tensor& sc = T(scale, "scale");
  at::Tensor y;
  if (!rt_fused::modulate(x, sh, sc, y)) y = x * (sc + 1) + sh;
  put(out, std::move(y));
  RT_END
}

RT_API rt_status rt_apply_rotary_emb(rt_ctx* ctx, rt_tensor* input, rt_tensor* cos, rt_tensor* sin,
                                     rt_tensor** out) noexcept {
  RT_BEGIN
  const at::Tensor& x = T(input, "input");
  const at::Tensor& c = T(cos, "cos");
  const at::Tensor& s = T(sin, "sin");
  if (x.dim() < 1 || x.size(-1) % 2 != 0)
    throw ArgError("apply_rotary_emb: the last dim must be even (channel pairs), got shape " + c10::str(x.sizes()));
  at::Tensor y;
  if (!rt_fused::rotary_interleaved(x, c, s, y)) {
    // rotate_half: (x[2i], x[2i+1]) -> (-x[2i+1], x[2i])
    std::vector<int64_t> paired(x.sizes().begin(), x.sizes().end());
    paired.back() /= 2;
    paired.push_back(2);
    at::Tensor p = x.reshape(paired);
    at::Tensor rotated = at::stack({p.select(-1, 1).neg(), p.select(-1, 0)}, -1).reshape(x.sizes());
    y = x * c + rotated * s;
  }
  put(out, std::move(y));
  RT_END
}

RT_API rt_status rt_group_norm(rt_ctx* ctx, rt_tensor* input, int64_t num_groups, rt_tensor* weight, rt_tensor* bias,
                               double eps, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::group_norm(T(input, "input"), num_groups, opt(weight), opt(bias), eps, true));
  RT_END
}

RT_API rt_status rt_batch_norm(rt_ctx* ctx, rt_tensor* input, rt_tensor* weight, rt_tensor* bias,
                               rt_tensor* running_mean, rt_tensor* running_var, int32_t training, double momentum,
                               double eps, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::batch_norm(T(input, "input"), opt(weight), opt(bias), opt(running_mean), opt(running_var), training != 0,
                          momentum, eps, true));
  RT_END
}

RT_API rt_status rt_dropout(rt_ctx* ctx, rt_tensor* t, double p, int32_t training, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::dropout(T(t), p, training != 0));
  RT_END
}

RT_API rt_status rt_scaled_dot_product_attention(rt_ctx* ctx, rt_tensor* q, rt_tensor* k, rt_tensor* v,
                                                 rt_tensor* attn_mask, double dropout_p, int32_t is_causal,
                                                 double scale, rt_tensor** out) noexcept {
  RT_BEGIN
  const at::Tensor& Q = T(q, "q");
  const at::Tensor& K = T(k, "k");
  const at::Tensor& V = T(v, "v");
#if RT_TORCH_AT_LEAST(2, 1)
  // LibTorch's fused kernel (flash / memory-efficient on CUDA).
  rt_optional<double> sc = scale > 0 ? rt_optional<double>(scale) : rt_optional<double>(RT_NULLOPT);
  rt_optional<at::Tensor> mask = opt(attn_mask);
  bool causal = is_causal != 0;
  if (causal && mask.has_value()) {
    // 2.x refuses a mask together with is_causal; fold the causal mask in, as 1.13's path does.
    auto keep = at::ones({Q.size(-2), K.size(-2)}, Q.options().dtype(at::kBool)).tril();
    mask = mask->scalar_type() == at::kBool
               ? mask->logical_and(keep)
               : at::where(keep, *mask, at::full({}, -std::numeric_limits<double>::infinity(), mask->options()));
    causal = false;
  }
  put(out, at::scaled_dot_product_attention(Q, K, V, mask, dropout_p, causal, sc));
#else
  // 1.13 has no public fused op: the exact composite.
  put(out, attention_math(Q, K, V, opt(attn_mask), dropout_p, is_causal != 0, scale));
#endif
  RT_END
}

RT_API rt_status rt_attention_math(rt_ctx* ctx, rt_tensor* q, rt_tensor* k, rt_tensor* v, rt_tensor* attn_mask,
                                   int32_t is_causal, double scale, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, attention_math(T(q, "q"), T(k, "k"), T(v, "v"), opt(attn_mask), 0.0, is_causal != 0, scale));
  RT_END
}

RT_API rt_status rt_cosine_similarity(rt_ctx* ctx, rt_tensor* a, rt_tensor* b, int64_t dim, double eps,
                                      rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::cosine_similarity(T(a), T(b), dim, eps));
  RT_END
}

// ---- in place ----

RT_API rt_status rt_add_(rt_ctx* ctx, rt_tensor* self, rt_tensor* other, double alpha) noexcept {
  RT_BEGIN
  T(self).add_(T(other, "other"), alpha);
  RT_END
}
RT_API rt_status rt_add_scalar_(rt_ctx* ctx, rt_tensor* self, double value) noexcept {
  RT_BEGIN
  const at::Tensor& x = T(self);
  x.add_(scalar_for(x, value));
  RT_END
}
RT_API rt_status rt_mul_(rt_ctx* ctx, rt_tensor* self, rt_tensor* other) noexcept {
  RT_BEGIN
  T(self).mul_(T(other, "other"));
  RT_END
}
RT_API rt_status rt_mul_scalar_(rt_ctx* ctx, rt_tensor* self, double value) noexcept {
  RT_BEGIN
  const at::Tensor& x = T(self);
  x.mul_(scalar_for(x, value));
  RT_END
}
RT_API rt_status rt_addcmul_(rt_ctx* ctx, rt_tensor* self, rt_tensor* t1, rt_tensor* t2, double value) noexcept {
  RT_BEGIN
  T(self).addcmul_(T(t1, "tensor1"), T(t2, "tensor2"), value);
  RT_END
}
RT_API rt_status rt_addcdiv_(rt_ctx* ctx, rt_tensor* self, rt_tensor* t1, rt_tensor* t2, double value) noexcept {
  RT_BEGIN
  T(self).addcdiv_(T(t1, "tensor1"), T(t2, "tensor2"), value);
  RT_END
}
RT_API rt_status rt_lerp_(rt_ctx* ctx, rt_tensor* self, rt_tensor* end, double weight) noexcept {
  RT_BEGIN
  T(self).lerp_(T(end, "end"), weight);
  RT_END
}
RT_API rt_status rt_clamp_(rt_ctx* ctx, rt_tensor* self, double min, double max, int32_t has_min,
                           int32_t has_max) noexcept {
  RT_BEGIN
  T(self).clamp_(bound(min, has_min), bound(max, has_max));
  RT_END
}
RT_API rt_status rt_copy_(rt_ctx* ctx, rt_tensor* self, rt_tensor* src) noexcept {
  RT_BEGIN
  T(self).copy_(T(src, "src"));
  RT_END
}
RT_API rt_status rt_zero_(rt_ctx* ctx, rt_tensor* self) noexcept {
  RT_BEGIN
  T(self).zero_();
  RT_END
}
RT_API rt_status rt_fill_(rt_ctx* ctx, rt_tensor* self, double value) noexcept {
  RT_BEGIN
  T(self).fill_(value);
  RT_END
}

// ---- autograd ----

RT_API rt_status rt_set_requires_grad(rt_ctx* ctx, rt_tensor* t, int32_t requires_grad) noexcept {
  RT_BEGIN
  // set_requires_grad would bypass autograd's check that only leaves can change the flag.
  at::Tensor x = T(t);
  x.requires_grad_(requires_grad != 0);
  RT_END
}

RT_API rt_status rt_backward(rt_ctx* ctx, rt_tensor* t, rt_tensor* gradient, int32_t retain_graph) noexcept {
  RT_BEGIN
  const at::Tensor& x = T(t);
  if (!x.requires_grad())
    throw ArgError(
        "backward: the tensor does not require grad and has no grad_fn "
        "(was it computed under no_grad / inference mode, or from tensors without requires_grad?)");
  x.backward(gradient ? gradient->t : at::Tensor(), rt_optional<bool>(retain_graph != 0), false);
  RT_END
}

RT_API rt_status rt_grad(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) noexcept {
  RT_BEGIN
  if (!out) throw ArgError("out is NULL");
  const at::Tensor& g = T(t).grad();
  *out = g.defined() ? wrap(g) : nullptr;
  RT_END
}

RT_API rt_status rt_set_grad(rt_ctx* ctx, rt_tensor* t, rt_tensor* grad) noexcept {
  RT_BEGIN
  at::Tensor x = T(t);
  if (grad == nullptr) {
    x.mutable_grad().reset();
  } else {
    const at::Tensor& g = grad->t;
    if (g.sizes() != x.sizes() || g.scalar_type() != x.scalar_type() || g.device() != x.device())
      throw ArgError("set_grad: the gradient's shape, dtype or device differs from the tensor's");
    x.mutable_grad() = g;
  }
  RT_END
}

// ---- optimizers ----

RT_API rt_status rt_adamw_step(rt_ctx* ctx, rt_tensor** params, rt_tensor** exp_avgs, rt_tensor** exp_avg_sqs,
                               int64_t* steps, int64_t n, double lr, double beta1, double beta2, double eps,
                               double weight_decay) noexcept {
  RT_BEGIN
  if (n < 0 || (n > 0 && (!params || !exp_avgs || !exp_avg_sqs || !steps))) throw ArgError("NULL optimizer state");
  at::NoGradGuard no_grad;
  // torch.optim.AdamW's single-tensor path, statement for statement, so results match bit for bit.
  for (int64_t i = 0; i < n; ++i) {
    at::Tensor p = T(params[i], "param");
    const at::Tensor& grad = p.grad();
    if (!grad.defined()) continue;  // torch skips parameters without gradients
    at::Tensor exp_avg = T(exp_avgs[i], "exp_avg");
    at::Tensor exp_avg_sq = T(exp_avg_sqs[i], "exp_avg_sq");
    const double step = static_cast<double>(++steps[i]);
    p.mul_(1 - lr * weight_decay);
#if RT_TORCH_AT_LEAST(2, 0)
    exp_avg.lerp_(grad, 1 - beta1);
#else
    exp_avg.mul_(beta1).add_(grad, 1 - beta1);
#endif
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
    const double bias_correction1 = 1 - std::pow(beta1, step);
    const double bias_correction2 = 1 - std::pow(beta2, step);
    const double step_size = lr / bias_correction1;
    const double bias_correction2_sqrt = std::sqrt(bias_correction2);
    at::Tensor denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps);
    p.addcdiv_(exp_avg, denom, -step_size);
  }
  RT_END
}

RT_API rt_status rt_sgd_step(rt_ctx* ctx, rt_tensor** params, rt_tensor** momentum_buffers, int64_t n, double lr,
                             double momentum, double dampening, double weight_decay, int32_t nesterov,
                             int32_t first_step) noexcept {
  RT_BEGIN
  if (n < 0 || (n > 0 && !params)) throw ArgError("NULL parameter list");
  if (momentum != 0 && n > 0 && !momentum_buffers) throw ArgError("momentum needs buffers");
  at::NoGradGuard no_grad;
  // torch.optim.SGD's single-tensor path.
  for (int64_t i = 0; i < n; ++i) {
    at::Tensor p = T(params[i], "param");
    at::Tensor d_p = p.grad();
    if (!d_p.defined()) continue;
    if (weight_decay != 0) d_p = d_p.add(p, weight_decay);
    if (momentum != 0) {
      at::Tensor buf = T(momentum_buffers[i], "momentum_buffer");
      if (first_step) {
        buf.copy_(d_p);
      } else {
        buf.mul_(momentum).add_(d_p, 1 - dampening);
      }
      d_p = nesterov ? d_p.add(buf, momentum) : buf;
    }
    p.add_(d_p, -lr);
  }
  RT_END
}

RT_API rt_status rt_clip_grad_norm_(rt_ctx* ctx, rt_tensor** params, int64_t n, double max_norm, double norm_type,
                                    double* total_norm) noexcept {
  RT_BEGIN
  if (!total_norm) throw ArgError("total_norm is NULL");
  if (n < 0 || (n > 0 && !params)) throw ArgError("NULL parameter list");
  at::NoGradGuard no_grad;
  // torch.nn.utils.clip_grad_norm_: per-gradient norms, norm of norms, always scale by the
  // clamped coefficient (also when it is 1).
  std::vector<at::Tensor> grads;
  for (int64_t i = 0; i < n; ++i) {
    const at::Tensor& g = T(params[i], "param").grad();
    if (g.defined()) grads.push_back(g);
  }
  if (grads.empty()) {
    *total_norm = 0.0;
  } else {
    const auto dev = grads[0].device();
    std::vector<at::Tensor> norms;
    at::Tensor total;
    if (std::isinf(norm_type)) {
      for (auto& g : grads) norms.push_back(g.detach().abs().max().to(dev));
      total = norms.size() == 1 ? norms[0] : at::max(at::stack(norms));
    } else {
      for (auto& g : grads)
        norms.push_back(at::linalg_vector_norm(g.detach(), norm_type, RT_NULLOPT, false, RT_NULLOPT).to(dev));
      total = at::linalg_vector_norm(at::stack(norms), norm_type, RT_NULLOPT, false, RT_NULLOPT);
    }
    at::Tensor coef = max_norm / (total + 1e-6);
    at::Tensor clamped = at::clamp(coef, RT_NULLOPT, at::Scalar(1.0));
    for (auto& g : grads) {
      at::Tensor gg = g;
      gg.detach().mul_(clamped.to(g.device()));
    }
    *total_norm = total.item<double>();
  }
  RT_END
}

RT_API rt_status rt_ema_update_(rt_ctx* ctx, rt_tensor** ema, rt_tensor** params, int64_t n, double decay) noexcept {
  RT_BEGIN
  if (n < 0 || (n > 0 && (!ema || !params))) throw ArgError("NULL EMA lists");
  at::NoGradGuard no_grad;
  for (int64_t i = 0; i < n; ++i) {
    at::Tensor e = T(ema[i], "ema");
    e.mul_(decay).add_(T(params[i], "param").detach(), 1 - decay);
  }
  RT_END
}

// --- issue 11: symmetric eigen-decomposition for FID. Here rather than in a file of its own
// because the RT_BEGIN/RT_END error handling and put helpers are local to this file. ---
RT_API rt_status rt_linalg_eigh(rt_ctx* ctx, rt_tensor* t, rt_tensor** eigenvalues, rt_tensor** eigenvectors) noexcept {
  RT_BEGIN
  put_pair(at::linalg_eigh(T(t), "L"), eigenvalues, eigenvectors);
  RT_END
}
RT_API rt_status rt_linalg_eigvalsh(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) noexcept {
  RT_BEGIN
  put(out, at::linalg_eigvalsh(T(t), "L"));
  RT_END
}
