// issue 13: Linear with its weight packed once into oneDNN's blocked layout (CPU inference).
// The rt_linear_pack* entry points in rectok_torch.cpp call these; packed_linear.cpp compiles to
// "unavailable" stubs without oneDNN's headers (RT_WITH_DNNL unset).
#pragma once

#include <ATen/ATen.h>

#include <string>

namespace rt_packed {

// oneDNN's matmul kernel for weights of `dtype` (at::kFloat or at::kBFloat16) on this machine,
// e.g. "brg:avx512_core_bf16", or "" when the packed path is unavailable (no oneDNN headers at
// build time, or no brgemm kernel for that dtype on this CPU).
std::string implementation(at::ScalarType dtype);

// weight (N, K) float32 CPU -> a 1-D float32 CPU tensor holding it, converted to `dtype`, in the
// packed layout, followed by (K, N, dtype) so that a packed weight names its own shape.
at::Tensor pack(const at::Tensor& weight, at::ScalarType dtype);

// input (..., K) float32 CPU (cast to the packed dtype inside), packed from pack() of an (N, K)
// weight, bias (N) float32 or undefined -> (..., N) float32, accumulated in float32. Throws
// rt_guard::ArgError for mismatched arguments.
at::Tensor linear(const at::Tensor& input, const at::Tensor& packed, const at::Tensor& bias, int64_t n);

}  // namespace rt_packed
