// Fused CPU kernels for the transformer blocks' elementwise chains (inference only).
//
// Each function computes, in one pass over memory, what the reference writes as a chain of ATen
// ops (one allocation and one full read/write per op). They return false when their fast path
// does not apply: any tensor not a strided float32 CPU tensor, autograd recording, or a layout
// they do not handle. The caller then runs the composite ATen ops, so results never depend on
// whether a fast path exists, only their last bits can (see each function).
#pragma once

#include <ATen/ATen.h>

namespace rt_fused {

// x * rsqrt(mean(x^2, -1) + eps) [* weight] over the last dim of a contiguous x. Elementwise
// order as the reference ((x * r) * w); the sum of squares is accumulated in float like ATen's,
// in a different order, so rows can differ from the composite op by about 1e-7 relative.
bool rms_norm(const at::Tensor& x, const at::Tensor* weight, double eps, at::Tensor& out);

// x * (1 + scale) + shift (DiT's modulate), x contiguous (..., D); shift and scale broadcast to x
// (ATen's rules, same last dim) with unit stride on the last. Bit-identical to the composite ops.
bool modulate(const at::Tensor& x, const at::Tensor& shift, const at::Tensor& scale, at::Tensor& out);

// x * cos + rotate_half(x) * sin with rotate_half pairing adjacent channels
// ((x0, x1) -> (-x1, x0)), the EVA / RecTok rotary embedding. x has the last dim even with unit
// stride (any other strides: q and k are views of the qkv projection); cos and sin broadcast to
// x (same last dim) with unit stride on the last. The result is contiguous.
// Bit-identical to the composite ops.
bool rotary_interleaved(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin, at::Tensor& out);

// Fast paths taken so far, process-wide (diagnostics and tests).
int64_t calls() noexcept;

}  // namespace rt_fused
