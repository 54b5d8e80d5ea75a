/*
 * rectok_torch.h: the C ABI of the RecTok LibTorch shim. The single source of truth.
 *
 * Grammar (checked by the Java binding test, so keep it):
 *   - one declaration per line:  RT_API <ret> <name>(<params>) RT_NOEXCEPT;
 *   - types: void, int32_t, int64_t, uint64_t, double, rt_status, pointers;
 *   - constants: #define RT_<NAME> <integer>.
 *
 * Contract:
 *   - Every function that can fail returns rt_status and takes the caller's rt_ctx first (only
 *     rt_abi_version, rt_noop, rt_live_tensors, rt_fused_calls and the two *_free functions cannot fail). On
 *     failure it writes a NUL-terminated message into ctx->error (LibTorch's message, without
 *     backtrace) and returns a non-zero status. No C++ exception crosses this boundary and
 *     there is no thread-local error state.
 *   - ctx->grad_mode selects autograd for the duration of the call: RT_GRAD_ENABLED,
 *     RT_GRAD_DISABLED (torch.no_grad) or RT_INFERENCE_MODE (torch.inference_mode). Being
 *     per call, it is correct for callers whose threads migrate between OS threads.
 *   - ctx->autocast likewise selects mixed precision for the call (RT_AUTOCAST_*), with the
 *     autocast weight cache off: there is no outer region whose end would clear it.
 *   - rt_tensor** out parameters receive a new owned handle; free it with rt_tensor_free.
 *     Handles passed in are borrowed. rt_tensor_free(NULL) is a no-op.
 *   - Shapes are (const int64_t* shape, int64_t ndim). Optional tensors may be NULL.
 *   - Version differences between LibTorch 1.13 and 2.x live in the .cpp, never here.
 */
#ifndef RECTOK_TORCH_H
#define RECTOK_TORCH_H

#include <stdint.h>

#ifdef __cplusplus
#define RT_API extern "C" __attribute__((visibility("default")))
#define RT_NOEXCEPT noexcept
#else
#define RT_API extern __attribute__((visibility("default")))
#define RT_NOEXCEPT
#endif

#define RT_ABI_VERSION 2
#define RT_ERROR_CAPACITY 1024

/* status codes */
#define RT_OK 0
#define RT_ERR_TORCH 1
#define RT_ERR_STD 2
#define RT_ERR_UNKNOWN 3
#define RT_ERR_ARG 4

/* dtypes: this ABI's own stable numbering, not c10::ScalarType */
#define RT_F32 0
#define RT_F64 1
#define RT_F16 2
#define RT_BF16 3
#define RT_I64 4
#define RT_I32 5
#define RT_I16 6
#define RT_I8 7
#define RT_U8 8
#define RT_BOOL 9

/* device types */
#define RT_DEVICE_CPU 0
#define RT_DEVICE_CUDA 1

/* autograd modes (rt_ctx.grad_mode) */
#define RT_GRAD_ENABLED 0
#define RT_GRAD_DISABLED 1
#define RT_INFERENCE_MODE 2

/* autocast modes (rt_ctx.autocast): torch.autocast(device_type, dtype) for one call */
#define RT_AUTOCAST_OFF 0
#define RT_AUTOCAST_CPU_BF16 1
#define RT_AUTOCAST_CUDA_BF16 2
#define RT_AUTOCAST_CUDA_FP16 3

/* comparisons */
#define RT_CMP_EQ 0
#define RT_CMP_NE 1
#define RT_CMP_LT 2
#define RT_CMP_LE 3
#define RT_CMP_GT 4
#define RT_CMP_GE 5

/* interpolation modes */
#define RT_INTERP_NEAREST 0
#define RT_INTERP_BILINEAR 1
#define RT_INTERP_BICUBIC 2

/* rt_ctx layout, in bytes */
#define RT_CTX_GRAD_MODE_OFFSET 0
#define RT_CTX_AUTOCAST_OFFSET 4
#define RT_CTX_ERROR_OFFSET 8
#define RT_CTX_SIZE 1032

typedef int32_t rt_status;
typedef struct rt_tensor rt_tensor;
typedef struct rt_generator rt_generator;

/* The caller's per-call context: autograd and autocast modes in, error message out. */
typedef struct rt_ctx {
  int32_t grad_mode;
  int32_t autocast;
  char error[RT_ERROR_CAPACITY];
} rt_ctx;

/* ---- runtime ---- */
RT_API int32_t rt_abi_version(void) RT_NOEXCEPT;
RT_API void rt_noop(void) RT_NOEXCEPT;
RT_API int64_t rt_live_tensors(void) RT_NOEXCEPT;
/* How many times a fused CPU kernel (rms_norm, modulate, apply_rotary_emb) ran instead of its composite ATen ops, process-wide. */
RT_API int64_t rt_fused_calls(void) RT_NOEXCEPT;
RT_API rt_status rt_torch_version(rt_ctx* ctx, char* buf, int64_t cap) RT_NOEXCEPT;
RT_API rt_status rt_build_config(rt_ctx* ctx, char* buf, int64_t cap) RT_NOEXCEPT;
RT_API rt_status rt_set_num_threads(rt_ctx* ctx, int32_t n) RT_NOEXCEPT;
RT_API rt_status rt_get_num_threads(rt_ctx* ctx, int32_t* out) RT_NOEXCEPT;
RT_API rt_status rt_configure_malloc(rt_ctx* ctx, int64_t mmap_threshold, int64_t trim_threshold, int64_t top_pad) RT_NOEXCEPT;
/* The CPU tensor allocator (docs/runtime.md#cpu-allocator): blocks of at least min_bytes get their own mapping and, once freed, are kept for reuse by size class up to cache_bytes in all. Installed at most once per process. */
RT_API rt_status rt_configure_cpu_allocator(rt_ctx* ctx, int64_t min_bytes, int64_t cache_bytes) RT_NOEXCEPT;
/* Fills out7 with: live bytes, peak live bytes, cached bytes, cache hits, cache misses, min_bytes, cache_bytes of its blocks (all -1 when not installed). */
RT_API rt_status rt_cpu_allocator_stats(rt_ctx* ctx, int64_t* out7) RT_NOEXCEPT;
/* Starts the peak over from the live bytes. */
RT_API rt_status rt_cpu_allocator_reset_peak(rt_ctx* ctx) RT_NOEXCEPT;
/* Returns every cached block to the system. */
RT_API rt_status rt_cpu_allocator_trim(rt_ctx* ctx) RT_NOEXCEPT;
RT_API rt_status rt_cuda_device_count(rt_ctx* ctx, int32_t* out) RT_NOEXCEPT;
RT_API rt_status rt_cuda_synchronize(rt_ctx* ctx, int32_t device) RT_NOEXCEPT;
RT_API rt_status rt_cuda_memory_stats(rt_ctx* ctx, int32_t device, int64_t* allocated, int64_t* reserved) RT_NOEXCEPT;
RT_API rt_status rt_cuda_empty_cache(rt_ctx* ctx) RT_NOEXCEPT;
RT_API rt_status rt_manual_seed(rt_ctx* ctx, uint64_t seed) RT_NOEXCEPT;

/* ---- generators: created once, used by every random op ---- */
RT_API rt_status rt_generator_new(rt_ctx* ctx, int32_t device_type, int32_t device_index, uint64_t seed, rt_generator** out) RT_NOEXCEPT;
RT_API void rt_generator_free(rt_generator* gen) RT_NOEXCEPT;
RT_API rt_status rt_generator_manual_seed(rt_ctx* ctx, rt_generator* gen, uint64_t seed) RT_NOEXCEPT;
RT_API rt_status rt_generator_get_state(rt_ctx* ctx, rt_generator* gen, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_generator_set_state(rt_ctx* ctx, rt_generator* gen, rt_tensor* state) RT_NOEXCEPT;

/* ---- tensor lifecycle, metadata, host transfer ---- */
RT_API void rt_tensor_free(rt_tensor* t) RT_NOEXCEPT;
RT_API rt_status rt_tensor_meta(rt_ctx* ctx, rt_tensor* t, int64_t* meta, int64_t cap) RT_NOEXCEPT;
RT_API rt_status rt_tensor_strides(rt_ctx* ctx, rt_tensor* t, int64_t* out, int64_t cap) RT_NOEXCEPT;
RT_API rt_status rt_tensor_alias(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_from_data(rt_ctx* ctx, void* data, int64_t nbytes, int32_t dtype, int64_t* shape, int64_t ndim, int32_t device_type, int32_t device_index, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_from_storage(rt_ctx* ctx, void* data, int64_t nbytes, int32_t dtype, int64_t* shape, int64_t* strides, int64_t ndim, int64_t storage_offset, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_copy_to_host(rt_ctx* ctx, rt_tensor* t, void* dst, int64_t nbytes) RT_NOEXCEPT;
RT_API rt_status rt_item(rt_ctx* ctx, rt_tensor* t, double* out) RT_NOEXCEPT;
RT_API rt_status rt_item_int(rt_ctx* ctx, rt_tensor* t, int64_t* out) RT_NOEXCEPT;
RT_API rt_status rt_equal(rt_ctx* ctx, rt_tensor* a, rt_tensor* b, int32_t* out) RT_NOEXCEPT;
RT_API rt_status rt_to(rt_ctx* ctx, rt_tensor* t, int32_t dtype, int32_t device_type, int32_t device_index, int32_t copy, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_clone(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_detach(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;

/* ---- creation ---- */
RT_API rt_status rt_zeros(rt_ctx* ctx, int64_t* shape, int64_t ndim, int32_t dtype, int32_t device_type, int32_t device_index, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_ones(rt_ctx* ctx, int64_t* shape, int64_t ndim, int32_t dtype, int32_t device_type, int32_t device_index, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_full(rt_ctx* ctx, int64_t* shape, int64_t ndim, double value, int32_t dtype, int32_t device_type, int32_t device_index, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_arange(rt_ctx* ctx, double start, double end, double step, int32_t dtype, int32_t device_type, int32_t device_index, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_linspace(rt_ctx* ctx, double start, double end, int64_t steps, int32_t dtype, int32_t device_type, int32_t device_index, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_randn(rt_ctx* ctx, rt_generator* gen, int64_t* shape, int64_t ndim, int32_t dtype, int32_t device_type, int32_t device_index, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_rand(rt_ctx* ctx, rt_generator* gen, int64_t* shape, int64_t ndim, int32_t dtype, int32_t device_type, int32_t device_index, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_randint(rt_ctx* ctx, rt_generator* gen, int64_t low, int64_t high, int64_t* shape, int64_t ndim, int32_t dtype, int32_t device_type, int32_t device_index, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_randperm(rt_ctx* ctx, rt_generator* gen, int64_t n, int32_t dtype, int32_t device_type, int32_t device_index, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_normal_(rt_ctx* ctx, rt_tensor* self, rt_generator* gen, double mean, double std) RT_NOEXCEPT;
RT_API rt_status rt_uniform_(rt_ctx* ctx, rt_tensor* self, rt_generator* gen, double from, double to) RT_NOEXCEPT;
RT_API rt_status rt_bernoulli(rt_ctx* ctx, rt_tensor* probs, rt_generator* gen, rt_tensor** out) RT_NOEXCEPT;

/* ---- views and shape ops ---- */
RT_API rt_status rt_reshape(rt_ctx* ctx, rt_tensor* t, int64_t* shape, int64_t ndim, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_view(rt_ctx* ctx, rt_tensor* t, int64_t* shape, int64_t ndim, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_permute(rt_ctx* ctx, rt_tensor* t, int64_t* dims, int64_t ndim, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_transpose(rt_ctx* ctx, rt_tensor* t, int64_t dim0, int64_t dim1, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_contiguous(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_slice(rt_ctx* ctx, rt_tensor* t, int64_t dim, int64_t start, int64_t end, int64_t step, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_narrow(rt_ctx* ctx, rt_tensor* t, int64_t dim, int64_t start, int64_t length, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_select(rt_ctx* ctx, rt_tensor* t, int64_t dim, int64_t index, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_expand(rt_ctx* ctx, rt_tensor* t, int64_t* shape, int64_t ndim, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_repeat(rt_ctx* ctx, rt_tensor* t, int64_t* repeats, int64_t ndim, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_unsqueeze(rt_ctx* ctx, rt_tensor* t, int64_t dim, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_squeeze(rt_ctx* ctx, rt_tensor* t, int64_t dim, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_flatten(rt_ctx* ctx, rt_tensor* t, int64_t start_dim, int64_t end_dim, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_flip(rt_ctx* ctx, rt_tensor* t, int64_t* dims, int64_t ndim, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_split_with_sizes(rt_ctx* ctx, rt_tensor* t, int64_t* sizes, int64_t n, int64_t dim, rt_tensor** outs) RT_NOEXCEPT;
RT_API rt_status rt_cat(rt_ctx* ctx, rt_tensor** tensors, int64_t n, int64_t dim, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_stack(rt_ctx* ctx, rt_tensor** tensors, int64_t n, int64_t dim, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_gather(rt_ctx* ctx, rt_tensor* t, int64_t dim, rt_tensor* index, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_scatter(rt_ctx* ctx, rt_tensor* t, int64_t dim, rt_tensor* index, rt_tensor* src, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_index_select(rt_ctx* ctx, rt_tensor* t, int64_t dim, rt_tensor* index, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_argsort(rt_ctx* ctx, rt_tensor* t, int64_t dim, int32_t descending, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_where(rt_ctx* ctx, rt_tensor* condition, rt_tensor* a, rt_tensor* b, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_pixel_shuffle(rt_ctx* ctx, rt_tensor* t, int64_t factor, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_pixel_unshuffle(rt_ctx* ctx, rt_tensor* t, int64_t factor, rt_tensor** out) RT_NOEXCEPT;

/* ---- elementwise (broadcasting) ---- */
RT_API rt_status rt_add(rt_ctx* ctx, rt_tensor* a, rt_tensor* b, double alpha, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_sub(rt_ctx* ctx, rt_tensor* a, rt_tensor* b, double alpha, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_addcmul(rt_ctx* ctx, rt_tensor* self, rt_tensor* t1, rt_tensor* t2, double value, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_mul(rt_ctx* ctx, rt_tensor* a, rt_tensor* b, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_div(rt_ctx* ctx, rt_tensor* a, rt_tensor* b, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_pow(rt_ctx* ctx, rt_tensor* a, rt_tensor* b, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_maximum(rt_ctx* ctx, rt_tensor* a, rt_tensor* b, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_minimum(rt_ctx* ctx, rt_tensor* a, rt_tensor* b, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_add_scalar(rt_ctx* ctx, rt_tensor* a, double b, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_mul_scalar(rt_ctx* ctx, rt_tensor* a, double b, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_div_scalar(rt_ctx* ctx, rt_tensor* a, double b, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_pow_scalar(rt_ctx* ctx, rt_tensor* a, double exponent, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_rsub_scalar(rt_ctx* ctx, rt_tensor* a, double b, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_compare(rt_ctx* ctx, int32_t op, rt_tensor* a, rt_tensor* b, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_compare_scalar(rt_ctx* ctx, int32_t op, rt_tensor* a, double b, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_clamp(rt_ctx* ctx, rt_tensor* t, double min, double max, int32_t has_min, int32_t has_max, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_lerp(rt_ctx* ctx, rt_tensor* a, rt_tensor* b, double weight, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_neg(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_abs(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_sqrt(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_rsqrt(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_exp(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_log(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_sin(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_cos(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_tanh(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_sigmoid(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_relu(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_silu(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_erf(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_erfinv(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_floor(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_round(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_sign(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_logical_not(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_isfinite(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_gelu(rt_ctx* ctx, rt_tensor* t, int32_t tanh_approximation, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_leaky_relu(rt_ctx* ctx, rt_tensor* t, double negative_slope, rt_tensor** out) RT_NOEXCEPT;

/* ---- reductions; ndim == 0 reduces over all dims ---- */
RT_API rt_status rt_sum(rt_ctx* ctx, rt_tensor* t, int64_t* dims, int64_t ndim, int32_t keepdim, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_mean(rt_ctx* ctx, rt_tensor* t, int64_t* dims, int64_t ndim, int32_t keepdim, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_var(rt_ctx* ctx, rt_tensor* t, int64_t* dims, int64_t ndim, int64_t correction, int32_t keepdim, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_vector_norm(rt_ctx* ctx, rt_tensor* t, double ord, int64_t* dims, int64_t ndim, int32_t keepdim, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_max_all(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_min_all(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_max_dim(rt_ctx* ctx, rt_tensor* t, int64_t dim, int32_t keepdim, rt_tensor** values, rt_tensor** indices) RT_NOEXCEPT;
RT_API rt_status rt_min_dim(rt_ctx* ctx, rt_tensor* t, int64_t dim, int32_t keepdim, rt_tensor** values, rt_tensor** indices) RT_NOEXCEPT;
RT_API rt_status rt_argmax(rt_ctx* ctx, rt_tensor* t, int64_t dim, int32_t keepdim, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_cumsum(rt_ctx* ctx, rt_tensor* t, int64_t dim, rt_tensor** out) RT_NOEXCEPT;

/* ---- linear algebra and neural-network functions ---- */
RT_API rt_status rt_matmul(rt_ctx* ctx, rt_tensor* a, rt_tensor* b, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_bmm(rt_ctx* ctx, rt_tensor* a, rt_tensor* b, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_linear(rt_ctx* ctx, rt_tensor* input, rt_tensor* weight, rt_tensor* bias, rt_tensor** out) RT_NOEXCEPT;
/* issue 13: Linear on a weight packed once for oneDNN's brgemm kernel (CPU inference).
 * rt_linear_packing writes the kernel's name for weights of dtype (RT_F32 or RT_BF16), or "" when
 * unavailable (no oneDNN in this build, or no brgemm kernel on this CPU); rt_linear_pack_weight
 * turns an (out, in) float32 weight into a 1-D float32 tensor holding it in dtype, packed;
 * rt_linear_packed multiplies a float32 (..., in) input by it (cast to dtype inside) with a
 * float32 bias and result. */
RT_API rt_status rt_linear_packing(rt_ctx* ctx, int32_t dtype, char* buf, int64_t cap) RT_NOEXCEPT;
RT_API rt_status rt_linear_pack_weight(rt_ctx* ctx, rt_tensor* weight, int32_t dtype, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_linear_packed(rt_ctx* ctx, rt_tensor* input, rt_tensor* packed, rt_tensor* bias, int64_t out_features, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_conv2d(rt_ctx* ctx, rt_tensor* input, rt_tensor* weight, rt_tensor* bias, int64_t stride_h, int64_t stride_w, int64_t pad_h, int64_t pad_w, int64_t dilation_h, int64_t dilation_w, int64_t groups, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_interpolate(rt_ctx* ctx, rt_tensor* input, int64_t out_h, int64_t out_w, int32_t mode, int32_t align_corners, int32_t antialias, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_avg_pool2d(rt_ctx* ctx, rt_tensor* input, int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w, int64_t pad_h, int64_t pad_w, int32_t ceil_mode, int32_t count_include_pad, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_max_pool2d(rt_ctx* ctx, rt_tensor* input, int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w, int64_t pad_h, int64_t pad_w, int32_t ceil_mode, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_adaptive_avg_pool2d(rt_ctx* ctx, rt_tensor* input, int64_t out_h, int64_t out_w, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_embedding(rt_ctx* ctx, rt_tensor* weight, rt_tensor* indices, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_softmax(rt_ctx* ctx, rt_tensor* t, int64_t dim, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_log_softmax(rt_ctx* ctx, rt_tensor* t, int64_t dim, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_layer_norm(rt_ctx* ctx, rt_tensor* input, int64_t* normalized_shape, int64_t ndim, rt_tensor* weight, rt_tensor* bias, double eps, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_rms_norm(rt_ctx* ctx, rt_tensor* input, int64_t* normalized_shape, int64_t ndim, rt_tensor* weight, double eps, rt_tensor** out) RT_NOEXCEPT;
/* DiT's modulate, input * (1 + scale) + shift; shift and scale broadcast to input. */
RT_API rt_status rt_modulate(rt_ctx* ctx, rt_tensor* input, rt_tensor* shift, rt_tensor* scale, rt_tensor** out) RT_NOEXCEPT;
/* input * cos + rotate_half(input) * sin, rotate_half pairing adjacent channels: (x0, x1) -> (-x1, x0). */
RT_API rt_status rt_apply_rotary_emb(rt_ctx* ctx, rt_tensor* input, rt_tensor* cos, rt_tensor* sin, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_group_norm(rt_ctx* ctx, rt_tensor* input, int64_t num_groups, rt_tensor* weight, rt_tensor* bias, double eps, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_batch_norm(rt_ctx* ctx, rt_tensor* input, rt_tensor* weight, rt_tensor* bias, rt_tensor* running_mean, rt_tensor* running_var, int32_t training, double momentum, double eps, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_dropout(rt_ctx* ctx, rt_tensor* t, double p, int32_t training, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_scaled_dot_product_attention(rt_ctx* ctx, rt_tensor* q, rt_tensor* k, rt_tensor* v, rt_tensor* attn_mask, double dropout_p, int32_t is_causal, double scale, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_attention_math(rt_ctx* ctx, rt_tensor* q, rt_tensor* k, rt_tensor* v, rt_tensor* attn_mask, int32_t is_causal, double scale, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_mse_loss(rt_ctx* ctx, rt_tensor* input, rt_tensor* target, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_cross_entropy(rt_ctx* ctx, rt_tensor* logits, rt_tensor* target, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_cosine_similarity(rt_ctx* ctx, rt_tensor* a, rt_tensor* b, int64_t dim, double eps, rt_tensor** out) RT_NOEXCEPT;

/* ---- in place (optimizers, initializers); self is modified, nothing is returned ---- */
RT_API rt_status rt_add_(rt_ctx* ctx, rt_tensor* self, rt_tensor* other, double alpha) RT_NOEXCEPT;
RT_API rt_status rt_add_scalar_(rt_ctx* ctx, rt_tensor* self, double value) RT_NOEXCEPT;
RT_API rt_status rt_mul_(rt_ctx* ctx, rt_tensor* self, rt_tensor* other) RT_NOEXCEPT;
RT_API rt_status rt_mul_scalar_(rt_ctx* ctx, rt_tensor* self, double value) RT_NOEXCEPT;
RT_API rt_status rt_addcmul_(rt_ctx* ctx, rt_tensor* self, rt_tensor* t1, rt_tensor* t2, double value) RT_NOEXCEPT;
RT_API rt_status rt_addcdiv_(rt_ctx* ctx, rt_tensor* self, rt_tensor* t1, rt_tensor* t2, double value) RT_NOEXCEPT;
RT_API rt_status rt_lerp_(rt_ctx* ctx, rt_tensor* self, rt_tensor* end, double weight) RT_NOEXCEPT;
RT_API rt_status rt_clamp_(rt_ctx* ctx, rt_tensor* self, double min, double max, int32_t has_min, int32_t has_max) RT_NOEXCEPT;
RT_API rt_status rt_copy_(rt_ctx* ctx, rt_tensor* self, rt_tensor* src) RT_NOEXCEPT;
RT_API rt_status rt_zero_(rt_ctx* ctx, rt_tensor* self) RT_NOEXCEPT;
RT_API rt_status rt_fill_(rt_ctx* ctx, rt_tensor* self, double value) RT_NOEXCEPT;

/* ---- autograd ---- */
RT_API rt_status rt_set_requires_grad(rt_ctx* ctx, rt_tensor* t, int32_t requires_grad) RT_NOEXCEPT;
RT_API rt_status rt_backward(rt_ctx* ctx, rt_tensor* t, rt_tensor* gradient, int32_t retain_graph) RT_NOEXCEPT;
RT_API rt_status rt_grad(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;
RT_API rt_status rt_set_grad(rt_ctx* ctx, rt_tensor* t, rt_tensor* grad) RT_NOEXCEPT;

/* ---- optimizers: one call per step over a parameter group ---- */
RT_API rt_status rt_adamw_step(rt_ctx* ctx, rt_tensor** params, rt_tensor** exp_avgs, rt_tensor** exp_avg_sqs, int64_t* steps, int64_t n, double lr, double beta1, double beta2, double eps, double weight_decay) RT_NOEXCEPT;
RT_API rt_status rt_sgd_step(rt_ctx* ctx, rt_tensor** params, rt_tensor** momentum_buffers, int64_t n, double lr, double momentum, double dampening, double weight_decay, int32_t nesterov, int32_t first_step) RT_NOEXCEPT;
RT_API rt_status rt_clip_grad_norm_(rt_ctx* ctx, rt_tensor** params, int64_t n, double max_norm, double norm_type, double* total_norm) RT_NOEXCEPT;
RT_API rt_status rt_ema_update_(rt_ctx* ctx, rt_tensor** ema, rt_tensor** params, int64_t n, double decay) RT_NOEXCEPT;

/* --- issue 14: distributed (c10d stores, process groups, collectives; native/src/distributed.cpp) ---
 * Stores, process groups and works are opaque handles owned by the caller and freed with their
 * *_free function (NULL is a no-op). Collectives are asynchronous: they return a work handle at
 * once; rt_work_wait returns the collective's status and message (a dead peer, Gloo's I/O
 * timeout, or the wait's own timeout). Tensors passed to a collective are kept alive by the work
 * and must be dense and contiguous; they are modified in place. Every rank must issue the same
 * collectives in the same order. rt_distributed_available: 0 without c10d, 1 Gloo, 3 Gloo and NCCL. */
#define RT_REDUCE_SUM 0
#define RT_REDUCE_PRODUCT 1
#define RT_REDUCE_MIN 2
#define RT_REDUCE_MAX 3
typedef struct rt_store rt_store;
typedef struct rt_pg rt_pg;
typedef struct rt_work rt_work;
RT_API int32_t rt_distributed_available(void) RT_NOEXCEPT;
RT_API rt_status rt_store_tcp(rt_ctx* ctx, const char* host, int32_t port, int32_t is_server, int32_t world_size, int64_t timeout_ms, rt_store** out) RT_NOEXCEPT;
RT_API rt_status rt_store_file(rt_ctx* ctx, const char* path, int32_t world_size, int64_t timeout_ms, rt_store** out) RT_NOEXCEPT;
RT_API rt_status rt_store_prefix(rt_ctx* ctx, const char* prefix, rt_store* base, rt_store** out) RT_NOEXCEPT;
RT_API void rt_store_free(rt_store* store) RT_NOEXCEPT;
RT_API rt_status rt_store_set(rt_ctx* ctx, rt_store* store, const char* key, void* data, int64_t nbytes) RT_NOEXCEPT;
RT_API rt_status rt_store_get(rt_ctx* ctx, rt_store* store, const char* key, void* buf, int64_t cap, int64_t* len) RT_NOEXCEPT;
RT_API rt_status rt_store_add(rt_ctx* ctx, rt_store* store, const char* key, int64_t delta, int64_t* out) RT_NOEXCEPT;
RT_API rt_status rt_store_check(rt_ctx* ctx, rt_store* store, const char* key, int32_t* out) RT_NOEXCEPT;
RT_API rt_status rt_pg_gloo(rt_ctx* ctx, rt_store* store, int32_t rank, int32_t world_size, const char* ifnames, const char* hostname, int32_t threads, int64_t timeout_ms, rt_pg** out) RT_NOEXCEPT;
RT_API rt_status rt_pg_nccl(rt_ctx* ctx, rt_store* store, int32_t rank, int32_t world_size, int32_t device, int64_t timeout_ms, rt_pg** out) RT_NOEXCEPT;
RT_API void rt_pg_free(rt_pg* pg) RT_NOEXCEPT;
RT_API rt_status rt_pg_allreduce(rt_ctx* ctx, rt_pg* pg, rt_tensor* t, int32_t op, rt_work** out) RT_NOEXCEPT;
RT_API rt_status rt_pg_allreduce_coalesced(rt_ctx* ctx, rt_pg* pg, rt_tensor** ts, int64_t n, int32_t op, rt_work** out) RT_NOEXCEPT;
RT_API rt_status rt_pg_broadcast(rt_ctx* ctx, rt_pg* pg, rt_tensor* t, int32_t root, rt_work** out) RT_NOEXCEPT;
RT_API rt_status rt_pg_allgather(rt_ctx* ctx, rt_pg* pg, rt_tensor* input, rt_tensor** outputs, int64_t n, rt_work** out) RT_NOEXCEPT;
RT_API rt_status rt_pg_barrier(rt_ctx* ctx, rt_pg* pg, rt_work** out) RT_NOEXCEPT;
RT_API rt_status rt_pg_monitored_barrier(rt_ctx* ctx, rt_pg* pg, int64_t timeout_ms) RT_NOEXCEPT;
RT_API rt_status rt_work_wait(rt_ctx* ctx, rt_work* work, int64_t timeout_ms) RT_NOEXCEPT;
RT_API rt_status rt_work_is_completed(rt_ctx* ctx, rt_work* work, int32_t* out) RT_NOEXCEPT;
RT_API void rt_work_free(rt_work* work) RT_NOEXCEPT;
/* --- end issue 14 --- */
/* ---- issue 11: symmetric eigen-decomposition (LAPACK through ATen), for FID in float64 ---- */
RT_API rt_status rt_linalg_eigh(rt_ctx* ctx, rt_tensor* t, rt_tensor** eigenvalues, rt_tensor** eigenvectors) RT_NOEXCEPT;
RT_API rt_status rt_linalg_eigvalsh(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;

/* ---- issue 13: CUDA graphs of a fixed-shape step (CUDA builds of LibTorch 2.x) ----
 * A graph records every kernel the calling OS thread launches on its device between capture_begin
 * and capture_end (on a private stream; nothing may synchronise with the host in between), and
 * replay launches them again on the thread's current stream. The tensors the recorded kernels read
 * and write must stay alive at the same addresses: update inputs in place before each replay.
 * Elsewhere (CPU-only or 1.13 builds) rt_cuda_graphs_available is 0 and every call fails with a
 * sentence saying why. Graphs are owned by the caller and freed with rt_cuda_graph_free. */
typedef struct rt_cuda_graph rt_cuda_graph;
RT_API int32_t rt_cuda_graphs_available(void) RT_NOEXCEPT;
RT_API rt_status rt_cuda_graph_new(rt_ctx* ctx, int32_t device_index, rt_cuda_graph** out) RT_NOEXCEPT;
RT_API rt_status rt_cuda_graph_capture_begin(rt_ctx* ctx, rt_cuda_graph* graph) RT_NOEXCEPT;
RT_API rt_status rt_cuda_graph_capture_end(rt_ctx* ctx, rt_cuda_graph* graph) RT_NOEXCEPT;
RT_API rt_status rt_cuda_graph_replay(rt_ctx* ctx, rt_cuda_graph* graph) RT_NOEXCEPT;
RT_API void rt_cuda_graph_free(rt_cuda_graph* graph) RT_NOEXCEPT;
/* --- end issue 13 --- */

#endif /* RECTOK_TORCH_H */
