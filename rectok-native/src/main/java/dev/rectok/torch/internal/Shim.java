package dev.rectok.torch.internal;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Hand-written FFM bindings of {@code native/include/rectok_torch.h}, one holder class per C
 * function so each is bound lazily, on first use, and its handle is a JIT constant.
 *
 * <p>Handles ({@code rt_tensor*}, {@code rt_generator*}) pass as {@code long}: same register
 * class as a pointer on LP64, no wrapper allocation per call. Callers therefore keep the owning
 * Java objects reachable across the call ({@code Reference.reachabilityFence}).
 * {@code HeaderBindingTest} parses the header and fails on any function or constant missing here
 * or bound with another signature.
 *
 * <p>The handles are immutable and thread-safe; what a call may race with is the caller's business (see {@link dev.rectok.torch.Tensor}).
 */
public final class Shim {
  private Shim() {}

  // Constants of the ABI, named as in the header.
  public static final int RT_ABI_VERSION = 2;
  public static final int RT_ERROR_CAPACITY = 1024;
  public static final int RT_OK = 0;
  public static final int RT_ERR_TORCH = 1;
  public static final int RT_ERR_STD = 2;
  public static final int RT_ERR_UNKNOWN = 3;
  public static final int RT_ERR_ARG = 4;
  public static final int RT_F32 = 0;
  public static final int RT_F64 = 1;
  public static final int RT_F16 = 2;
  public static final int RT_BF16 = 3;
  public static final int RT_I64 = 4;
  public static final int RT_I32 = 5;
  public static final int RT_I16 = 6;
  public static final int RT_I8 = 7;
  public static final int RT_U8 = 8;
  public static final int RT_BOOL = 9;
  public static final int RT_DEVICE_CPU = 0;
  public static final int RT_DEVICE_CUDA = 1;
  public static final int RT_GRAD_ENABLED = 0;
  public static final int RT_GRAD_DISABLED = 1;
  public static final int RT_INFERENCE_MODE = 2;
  public static final int RT_AUTOCAST_OFF = 0;
  public static final int RT_AUTOCAST_CPU_BF16 = 1;
  public static final int RT_AUTOCAST_CUDA_BF16 = 2;
  public static final int RT_AUTOCAST_CUDA_FP16 = 3;
  public static final int RT_CMP_EQ = 0;
  public static final int RT_CMP_NE = 1;
  public static final int RT_CMP_LT = 2;
  public static final int RT_CMP_LE = 3;
  public static final int RT_CMP_GT = 4;
  public static final int RT_CMP_GE = 5;
  public static final int RT_INTERP_NEAREST = 0;
  public static final int RT_INTERP_BILINEAR = 1;
  public static final int RT_INTERP_BICUBIC = 2;
  public static final int RT_CTX_GRAD_MODE_OFFSET = 0;
  public static final int RT_CTX_AUTOCAST_OFFSET = 4;
  public static final int RT_CTX_ERROR_OFFSET = 8;
  public static final int RT_CTX_SIZE = 1032;

  /** A tensor or generator handle. */
  public static final ValueLayout H = ValueLayout.JAVA_LONG;
  private static final ValueLayout P = ValueLayout.ADDRESS;
  private static final ValueLayout I = ValueLayout.JAVA_INT;
  private static final ValueLayout L = ValueLayout.JAVA_LONG;
  private static final ValueLayout D = ValueLayout.JAVA_DOUBLE;

  // Host transfers may read/write Java arrays directly (one memcpy inside; GC waits that long).
  private static final Linker.Option HEAP = Linker.Option.critical(true);
  // Trivial getters only: a critical call blocks GC for its duration.
  private static final Linker.Option TRIVIAL = Linker.Option.critical(false);

  private static MethodHandle bind(String name, FunctionDescriptor fd, Linker.Option... options) {
    return NativeLibrary.downcall(name, fd, options);
  }

  public static final class rt_abi_version { public static final MethodHandle MH = bind("rt_abi_version", FunctionDescriptor.of(I), TRIVIAL); }
  public static final class rt_noop { public static final MethodHandle MH = bind("rt_noop", FunctionDescriptor.ofVoid(), TRIVIAL); }
  public static final class rt_live_tensors { public static final MethodHandle MH = bind("rt_live_tensors", FunctionDescriptor.of(L), TRIVIAL); }
  public static final class rt_fused_calls { public static final MethodHandle MH = bind("rt_fused_calls", FunctionDescriptor.of(L), TRIVIAL); }
  public static final class rt_torch_version { public static final MethodHandle MH = bind("rt_torch_version", FunctionDescriptor.of(I, P, P, L)); }
  public static final class rt_build_config { public static final MethodHandle MH = bind("rt_build_config", FunctionDescriptor.of(I, P, P, L)); }
  public static final class rt_set_num_threads { public static final MethodHandle MH = bind("rt_set_num_threads", FunctionDescriptor.of(I, P, I)); }
  public static final class rt_get_num_threads { public static final MethodHandle MH = bind("rt_get_num_threads", FunctionDescriptor.of(I, P, P)); }
  public static final class rt_configure_malloc { public static final MethodHandle MH = bind("rt_configure_malloc", FunctionDescriptor.of(I, P, L, L, L)); }
  public static final class rt_cuda_device_count { public static final MethodHandle MH = bind("rt_cuda_device_count", FunctionDescriptor.of(I, P, P)); }
  public static final class rt_cuda_synchronize { public static final MethodHandle MH = bind("rt_cuda_synchronize", FunctionDescriptor.of(I, P, I)); }
  public static final class rt_cuda_memory_stats { public static final MethodHandle MH = bind("rt_cuda_memory_stats", FunctionDescriptor.of(I, P, I, P, P)); }
  public static final class rt_cuda_empty_cache { public static final MethodHandle MH = bind("rt_cuda_empty_cache", FunctionDescriptor.of(I, P)); }
  public static final class rt_manual_seed { public static final MethodHandle MH = bind("rt_manual_seed", FunctionDescriptor.of(I, P, L)); }
  public static final class rt_generator_new { public static final MethodHandle MH = bind("rt_generator_new", FunctionDescriptor.of(I, P, I, I, L, P)); }
  public static final class rt_generator_free { public static final MethodHandle MH = bind("rt_generator_free", FunctionDescriptor.ofVoid(H)); }
  public static final class rt_generator_manual_seed { public static final MethodHandle MH = bind("rt_generator_manual_seed", FunctionDescriptor.of(I, P, H, L)); }
  public static final class rt_generator_get_state { public static final MethodHandle MH = bind("rt_generator_get_state", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_generator_set_state { public static final MethodHandle MH = bind("rt_generator_set_state", FunctionDescriptor.of(I, P, H, H)); }
  public static final class rt_tensor_free { public static final MethodHandle MH = bind("rt_tensor_free", FunctionDescriptor.ofVoid(H)); }
  public static final class rt_tensor_meta { public static final MethodHandle MH = bind("rt_tensor_meta", FunctionDescriptor.of(I, P, H, P, L)); }
  public static final class rt_tensor_strides { public static final MethodHandle MH = bind("rt_tensor_strides", FunctionDescriptor.of(I, P, H, P, L)); }
  public static final class rt_tensor_alias { public static final MethodHandle MH = bind("rt_tensor_alias", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_from_data { public static final MethodHandle MH = bind("rt_from_data", FunctionDescriptor.of(I, P, P, L, I, P, L, I, I, P), HEAP); }
  public static final class rt_from_storage { public static final MethodHandle MH = bind("rt_from_storage", FunctionDescriptor.of(I, P, P, L, I, P, P, L, L, P), HEAP); }
  public static final class rt_copy_to_host { public static final MethodHandle MH = bind("rt_copy_to_host", FunctionDescriptor.of(I, P, H, P, L), HEAP); }
  public static final class rt_item { public static final MethodHandle MH = bind("rt_item", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_item_int { public static final MethodHandle MH = bind("rt_item_int", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_equal { public static final MethodHandle MH = bind("rt_equal", FunctionDescriptor.of(I, P, H, H, P)); }
  public static final class rt_to { public static final MethodHandle MH = bind("rt_to", FunctionDescriptor.of(I, P, H, I, I, I, I, P)); }
  public static final class rt_clone { public static final MethodHandle MH = bind("rt_clone", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_detach { public static final MethodHandle MH = bind("rt_detach", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_zeros { public static final MethodHandle MH = bind("rt_zeros", FunctionDescriptor.of(I, P, P, L, I, I, I, P)); }
  public static final class rt_ones { public static final MethodHandle MH = bind("rt_ones", FunctionDescriptor.of(I, P, P, L, I, I, I, P)); }
  public static final class rt_full { public static final MethodHandle MH = bind("rt_full", FunctionDescriptor.of(I, P, P, L, D, I, I, I, P)); }
  public static final class rt_arange { public static final MethodHandle MH = bind("rt_arange", FunctionDescriptor.of(I, P, D, D, D, I, I, I, P)); }
  public static final class rt_linspace { public static final MethodHandle MH = bind("rt_linspace", FunctionDescriptor.of(I, P, D, D, L, I, I, I, P)); }
  public static final class rt_randn { public static final MethodHandle MH = bind("rt_randn", FunctionDescriptor.of(I, P, H, P, L, I, I, I, P)); }
  public static final class rt_rand { public static final MethodHandle MH = bind("rt_rand", FunctionDescriptor.of(I, P, H, P, L, I, I, I, P)); }
  public static final class rt_randint { public static final MethodHandle MH = bind("rt_randint", FunctionDescriptor.of(I, P, H, L, L, P, L, I, I, I, P)); }
  public static final class rt_randperm { public static final MethodHandle MH = bind("rt_randperm", FunctionDescriptor.of(I, P, H, L, I, I, I, P)); }
  public static final class rt_normal_ { public static final MethodHandle MH = bind("rt_normal_", FunctionDescriptor.of(I, P, H, H, D, D)); }
  public static final class rt_uniform_ { public static final MethodHandle MH = bind("rt_uniform_", FunctionDescriptor.of(I, P, H, H, D, D)); }
  public static final class rt_bernoulli { public static final MethodHandle MH = bind("rt_bernoulli", FunctionDescriptor.of(I, P, H, H, P)); }
  public static final class rt_reshape { public static final MethodHandle MH = bind("rt_reshape", FunctionDescriptor.of(I, P, H, P, L, P)); }
  public static final class rt_view { public static final MethodHandle MH = bind("rt_view", FunctionDescriptor.of(I, P, H, P, L, P)); }
  public static final class rt_permute { public static final MethodHandle MH = bind("rt_permute", FunctionDescriptor.of(I, P, H, P, L, P)); }
  public static final class rt_transpose { public static final MethodHandle MH = bind("rt_transpose", FunctionDescriptor.of(I, P, H, L, L, P)); }
  public static final class rt_contiguous { public static final MethodHandle MH = bind("rt_contiguous", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_slice { public static final MethodHandle MH = bind("rt_slice", FunctionDescriptor.of(I, P, H, L, L, L, L, P)); }
  public static final class rt_narrow { public static final MethodHandle MH = bind("rt_narrow", FunctionDescriptor.of(I, P, H, L, L, L, P)); }
  public static final class rt_select { public static final MethodHandle MH = bind("rt_select", FunctionDescriptor.of(I, P, H, L, L, P)); }
  public static final class rt_expand { public static final MethodHandle MH = bind("rt_expand", FunctionDescriptor.of(I, P, H, P, L, P)); }
  public static final class rt_repeat { public static final MethodHandle MH = bind("rt_repeat", FunctionDescriptor.of(I, P, H, P, L, P)); }
  public static final class rt_unsqueeze { public static final MethodHandle MH = bind("rt_unsqueeze", FunctionDescriptor.of(I, P, H, L, P)); }
  public static final class rt_squeeze { public static final MethodHandle MH = bind("rt_squeeze", FunctionDescriptor.of(I, P, H, L, P)); }
  public static final class rt_flatten { public static final MethodHandle MH = bind("rt_flatten", FunctionDescriptor.of(I, P, H, L, L, P)); }
  public static final class rt_flip { public static final MethodHandle MH = bind("rt_flip", FunctionDescriptor.of(I, P, H, P, L, P)); }
  public static final class rt_split_with_sizes { public static final MethodHandle MH = bind("rt_split_with_sizes", FunctionDescriptor.of(I, P, H, P, L, L, P)); }
  public static final class rt_cat { public static final MethodHandle MH = bind("rt_cat", FunctionDescriptor.of(I, P, P, L, L, P)); }
  public static final class rt_stack { public static final MethodHandle MH = bind("rt_stack", FunctionDescriptor.of(I, P, P, L, L, P)); }
  public static final class rt_gather { public static final MethodHandle MH = bind("rt_gather", FunctionDescriptor.of(I, P, H, L, H, P)); }
  public static final class rt_scatter { public static final MethodHandle MH = bind("rt_scatter", FunctionDescriptor.of(I, P, H, L, H, H, P)); }
  public static final class rt_index_select { public static final MethodHandle MH = bind("rt_index_select", FunctionDescriptor.of(I, P, H, L, H, P)); }
  public static final class rt_argsort { public static final MethodHandle MH = bind("rt_argsort", FunctionDescriptor.of(I, P, H, L, I, P)); }
  public static final class rt_where { public static final MethodHandle MH = bind("rt_where", FunctionDescriptor.of(I, P, H, H, H, P)); }
  public static final class rt_pixel_shuffle { public static final MethodHandle MH = bind("rt_pixel_shuffle", FunctionDescriptor.of(I, P, H, L, P)); }
  public static final class rt_pixel_unshuffle { public static final MethodHandle MH = bind("rt_pixel_unshuffle", FunctionDescriptor.of(I, P, H, L, P)); }
  public static final class rt_add { public static final MethodHandle MH = bind("rt_add", FunctionDescriptor.of(I, P, H, H, D, P)); }
  public static final class rt_sub { public static final MethodHandle MH = bind("rt_sub", FunctionDescriptor.of(I, P, H, H, D, P)); }
  public static final class rt_addcmul { public static final MethodHandle MH = bind("rt_addcmul", FunctionDescriptor.of(I, P, H, H, H, D, P)); }
  public static final class rt_mul { public static final MethodHandle MH = bind("rt_mul", FunctionDescriptor.of(I, P, H, H, P)); }
  public static final class rt_div { public static final MethodHandle MH = bind("rt_div", FunctionDescriptor.of(I, P, H, H, P)); }
  public static final class rt_pow { public static final MethodHandle MH = bind("rt_pow", FunctionDescriptor.of(I, P, H, H, P)); }
  public static final class rt_maximum { public static final MethodHandle MH = bind("rt_maximum", FunctionDescriptor.of(I, P, H, H, P)); }
  public static final class rt_minimum { public static final MethodHandle MH = bind("rt_minimum", FunctionDescriptor.of(I, P, H, H, P)); }
  public static final class rt_add_scalar { public static final MethodHandle MH = bind("rt_add_scalar", FunctionDescriptor.of(I, P, H, D, P)); }
  public static final class rt_mul_scalar { public static final MethodHandle MH = bind("rt_mul_scalar", FunctionDescriptor.of(I, P, H, D, P)); }
  public static final class rt_div_scalar { public static final MethodHandle MH = bind("rt_div_scalar", FunctionDescriptor.of(I, P, H, D, P)); }
  public static final class rt_pow_scalar { public static final MethodHandle MH = bind("rt_pow_scalar", FunctionDescriptor.of(I, P, H, D, P)); }
  public static final class rt_rsub_scalar { public static final MethodHandle MH = bind("rt_rsub_scalar", FunctionDescriptor.of(I, P, H, D, P)); }
  public static final class rt_compare { public static final MethodHandle MH = bind("rt_compare", FunctionDescriptor.of(I, P, I, H, H, P)); }
  public static final class rt_compare_scalar { public static final MethodHandle MH = bind("rt_compare_scalar", FunctionDescriptor.of(I, P, I, H, D, P)); }
  public static final class rt_clamp { public static final MethodHandle MH = bind("rt_clamp", FunctionDescriptor.of(I, P, H, D, D, I, I, P)); }
  public static final class rt_lerp { public static final MethodHandle MH = bind("rt_lerp", FunctionDescriptor.of(I, P, H, H, D, P)); }
  public static final class rt_neg { public static final MethodHandle MH = bind("rt_neg", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_abs { public static final MethodHandle MH = bind("rt_abs", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_sqrt { public static final MethodHandle MH = bind("rt_sqrt", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_rsqrt { public static final MethodHandle MH = bind("rt_rsqrt", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_exp { public static final MethodHandle MH = bind("rt_exp", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_log { public static final MethodHandle MH = bind("rt_log", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_sin { public static final MethodHandle MH = bind("rt_sin", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_cos { public static final MethodHandle MH = bind("rt_cos", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_tanh { public static final MethodHandle MH = bind("rt_tanh", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_sigmoid { public static final MethodHandle MH = bind("rt_sigmoid", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_relu { public static final MethodHandle MH = bind("rt_relu", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_silu { public static final MethodHandle MH = bind("rt_silu", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_erf { public static final MethodHandle MH = bind("rt_erf", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_erfinv { public static final MethodHandle MH = bind("rt_erfinv", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_floor { public static final MethodHandle MH = bind("rt_floor", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_round { public static final MethodHandle MH = bind("rt_round", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_sign { public static final MethodHandle MH = bind("rt_sign", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_logical_not { public static final MethodHandle MH = bind("rt_logical_not", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_isfinite { public static final MethodHandle MH = bind("rt_isfinite", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_gelu { public static final MethodHandle MH = bind("rt_gelu", FunctionDescriptor.of(I, P, H, I, P)); }
  public static final class rt_leaky_relu { public static final MethodHandle MH = bind("rt_leaky_relu", FunctionDescriptor.of(I, P, H, D, P)); }
  public static final class rt_sum { public static final MethodHandle MH = bind("rt_sum", FunctionDescriptor.of(I, P, H, P, L, I, P)); }
  public static final class rt_mean { public static final MethodHandle MH = bind("rt_mean", FunctionDescriptor.of(I, P, H, P, L, I, P)); }
  public static final class rt_var { public static final MethodHandle MH = bind("rt_var", FunctionDescriptor.of(I, P, H, P, L, L, I, P)); }
  public static final class rt_vector_norm { public static final MethodHandle MH = bind("rt_vector_norm", FunctionDescriptor.of(I, P, H, D, P, L, I, P)); }
  public static final class rt_max_all { public static final MethodHandle MH = bind("rt_max_all", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_min_all { public static final MethodHandle MH = bind("rt_min_all", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_max_dim { public static final MethodHandle MH = bind("rt_max_dim", FunctionDescriptor.of(I, P, H, L, I, P, P)); }
  public static final class rt_min_dim { public static final MethodHandle MH = bind("rt_min_dim", FunctionDescriptor.of(I, P, H, L, I, P, P)); }
  public static final class rt_argmax { public static final MethodHandle MH = bind("rt_argmax", FunctionDescriptor.of(I, P, H, L, I, P)); }
  public static final class rt_cumsum { public static final MethodHandle MH = bind("rt_cumsum", FunctionDescriptor.of(I, P, H, L, P)); }
  public static final class rt_matmul { public static final MethodHandle MH = bind("rt_matmul", FunctionDescriptor.of(I, P, H, H, P)); }
  public static final class rt_bmm { public static final MethodHandle MH = bind("rt_bmm", FunctionDescriptor.of(I, P, H, H, P)); }
  public static final class rt_linear { public static final MethodHandle MH = bind("rt_linear", FunctionDescriptor.of(I, P, H, H, H, P)); }
  public static final class rt_conv2d { public static final MethodHandle MH = bind("rt_conv2d", FunctionDescriptor.of(I, P, H, H, H, L, L, L, L, L, L, L, P)); }
  public static final class rt_interpolate { public static final MethodHandle MH = bind("rt_interpolate", FunctionDescriptor.of(I, P, H, L, L, I, I, I, P)); }
  public static final class rt_avg_pool2d { public static final MethodHandle MH = bind("rt_avg_pool2d", FunctionDescriptor.of(I, P, H, L, L, L, L, L, L, I, I, P)); }
  public static final class rt_max_pool2d { public static final MethodHandle MH = bind("rt_max_pool2d", FunctionDescriptor.of(I, P, H, L, L, L, L, L, L, I, P)); }
  public static final class rt_adaptive_avg_pool2d { public static final MethodHandle MH = bind("rt_adaptive_avg_pool2d", FunctionDescriptor.of(I, P, H, L, L, P)); }
  public static final class rt_embedding { public static final MethodHandle MH = bind("rt_embedding", FunctionDescriptor.of(I, P, H, H, P)); }
  public static final class rt_softmax { public static final MethodHandle MH = bind("rt_softmax", FunctionDescriptor.of(I, P, H, L, P)); }
  public static final class rt_log_softmax { public static final MethodHandle MH = bind("rt_log_softmax", FunctionDescriptor.of(I, P, H, L, P)); }
  public static final class rt_layer_norm { public static final MethodHandle MH = bind("rt_layer_norm", FunctionDescriptor.of(I, P, H, P, L, H, H, D, P)); }
  public static final class rt_rms_norm { public static final MethodHandle MH = bind("rt_rms_norm", FunctionDescriptor.of(I, P, H, P, L, H, D, P)); }
  public static final class rt_modulate { public static final MethodHandle MH = bind("rt_modulate", FunctionDescriptor.of(I, P, H, H, H, P)); }
  public static final class rt_apply_rotary_emb { public static final MethodHandle MH = bind("rt_apply_rotary_emb", FunctionDescriptor.of(I, P, H, H, H, P)); }
  public static final class rt_group_norm { public static final MethodHandle MH = bind("rt_group_norm", FunctionDescriptor.of(I, P, H, L, H, H, D, P)); }
  public static final class rt_batch_norm { public static final MethodHandle MH = bind("rt_batch_norm", FunctionDescriptor.of(I, P, H, H, H, H, H, I, D, D, P)); }
  public static final class rt_dropout { public static final MethodHandle MH = bind("rt_dropout", FunctionDescriptor.of(I, P, H, D, I, P)); }
  public static final class rt_scaled_dot_product_attention { public static final MethodHandle MH = bind("rt_scaled_dot_product_attention", FunctionDescriptor.of(I, P, H, H, H, H, D, I, D, P)); }
  public static final class rt_attention_math { public static final MethodHandle MH = bind("rt_attention_math", FunctionDescriptor.of(I, P, H, H, H, H, I, D, P)); }
  public static final class rt_mse_loss { public static final MethodHandle MH = bind("rt_mse_loss", FunctionDescriptor.of(I, P, H, H, P)); }
  public static final class rt_cross_entropy { public static final MethodHandle MH = bind("rt_cross_entropy", FunctionDescriptor.of(I, P, H, H, P)); }
  public static final class rt_cosine_similarity { public static final MethodHandle MH = bind("rt_cosine_similarity", FunctionDescriptor.of(I, P, H, H, L, D, P)); }
  public static final class rt_add_ { public static final MethodHandle MH = bind("rt_add_", FunctionDescriptor.of(I, P, H, H, D)); }
  public static final class rt_add_scalar_ { public static final MethodHandle MH = bind("rt_add_scalar_", FunctionDescriptor.of(I, P, H, D)); }
  public static final class rt_mul_ { public static final MethodHandle MH = bind("rt_mul_", FunctionDescriptor.of(I, P, H, H)); }
  public static final class rt_mul_scalar_ { public static final MethodHandle MH = bind("rt_mul_scalar_", FunctionDescriptor.of(I, P, H, D)); }
  public static final class rt_addcmul_ { public static final MethodHandle MH = bind("rt_addcmul_", FunctionDescriptor.of(I, P, H, H, H, D)); }
  public static final class rt_addcdiv_ { public static final MethodHandle MH = bind("rt_addcdiv_", FunctionDescriptor.of(I, P, H, H, H, D)); }
  public static final class rt_lerp_ { public static final MethodHandle MH = bind("rt_lerp_", FunctionDescriptor.of(I, P, H, H, D)); }
  public static final class rt_clamp_ { public static final MethodHandle MH = bind("rt_clamp_", FunctionDescriptor.of(I, P, H, D, D, I, I)); }
  public static final class rt_copy_ { public static final MethodHandle MH = bind("rt_copy_", FunctionDescriptor.of(I, P, H, H)); }
  public static final class rt_zero_ { public static final MethodHandle MH = bind("rt_zero_", FunctionDescriptor.of(I, P, H)); }
  public static final class rt_fill_ { public static final MethodHandle MH = bind("rt_fill_", FunctionDescriptor.of(I, P, H, D)); }
  public static final class rt_set_requires_grad { public static final MethodHandle MH = bind("rt_set_requires_grad", FunctionDescriptor.of(I, P, H, I)); }
  public static final class rt_backward { public static final MethodHandle MH = bind("rt_backward", FunctionDescriptor.of(I, P, H, H, I)); }
  public static final class rt_grad { public static final MethodHandle MH = bind("rt_grad", FunctionDescriptor.of(I, P, H, P)); }
  public static final class rt_set_grad { public static final MethodHandle MH = bind("rt_set_grad", FunctionDescriptor.of(I, P, H, H)); }
  public static final class rt_adamw_step { public static final MethodHandle MH = bind("rt_adamw_step", FunctionDescriptor.of(I, P, P, P, P, P, L, D, D, D, D, D)); }
  public static final class rt_sgd_step { public static final MethodHandle MH = bind("rt_sgd_step", FunctionDescriptor.of(I, P, P, P, L, D, D, D, D, I, I)); }
  public static final class rt_clip_grad_norm_ { public static final MethodHandle MH = bind("rt_clip_grad_norm_", FunctionDescriptor.of(I, P, P, L, D, D, P)); }
  public static final class rt_ema_update_ { public static final MethodHandle MH = bind("rt_ema_update_", FunctionDescriptor.of(I, P, P, P, L, D)); }
  // --- issue 11: symmetric eigen-decomposition for FID ---
  public static final class rt_linalg_eigh { public static final MethodHandle MH = bind("rt_linalg_eigh", FunctionDescriptor.of(I, P, H, P, P)); }
  public static final class rt_linalg_eigvalsh { public static final MethodHandle MH = bind("rt_linalg_eigvalsh", FunctionDescriptor.of(I, P, H, P)); }
}
