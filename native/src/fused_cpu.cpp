// Fused CPU kernels: see fused_cpu.h for what each computes and when it declines.
//
// The row loops are plain C++ that GCC vectorises; target_clones adds an AVX2 build of each next
// to the baseline one and picks at load time. AVX2 without FMA on purpose: every product and sum
// is rounded separately, exactly as the composite ATen ops round them.

#include "fused_cpu.h"

#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>

#include <atomic>
#include <cmath>
#include <initializer_list>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define RT_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define RT_VECTOR_CLONES
#endif

namespace rt_fused {
namespace {

constexpr int kMaxDims = 8;

std::atomic<int64_t> g_calls{0};

bool plain_float_cpu(const at::Tensor& t) {
  return t.defined() && t.device().is_cpu() && t.layout() == at::kStrided && t.scalar_type() == at::kFloat &&
         !t.is_neg() && t.numel() > 0 && t.dim() >= 1 && t.dim() <= kMaxDims && t.stride(-1) == 1;
}

// Autograd would need the composite graph.
bool recording(std::initializer_list<const at::Tensor*> ts) {
  if (!at::GradMode::is_enabled()) return false;
  for (const at::Tensor* t : ts)
    if (t != nullptr && t->requires_grad()) return true;
  return false;
}

// Row r of x's leading dims (all but the last), addressed in x and in operands broadcast to x.
struct Rows {
  int64_t lead = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t count = 1;

  explicit Rows(const at::Tensor& x) : lead(x.dim() - 1) {
    for (int64_t i = 0; i < lead; ++i) {
      sizes[i] = x.size(i);
      count *= sizes[i];
    }
  }

  // Element strides of t's leading dims as seen from x (0 where t broadcasts), or false when t
  // does not broadcast to x or has another last dim. Missing leading dims broadcast, as in ATen.
  bool strides_of(const at::Tensor& t, int64_t last, int64_t* out) const {
    const int64_t missing = lead + 1 - t.dim();
    if (missing < 0 || t.size(-1) != last) return false;
    for (int64_t i = 0; i < lead; ++i) {
      const int64_t ti = i - missing;
      if (ti < 0) {
        out[i] = 0;
      } else if (t.size(ti) == sizes[i]) {
        out[i] = sizes[i] == 1 ? 0 : t.stride(ti);
      } else if (t.size(ti) == 1) {
        out[i] = 0;
      } else {
        return false;
      }
    }
    return true;
  }

  int64_t offset(const int64_t* strides, int64_t r) const {
    int64_t off = 0;
    for (int64_t i = lead - 1; i >= 0; --i) {
      off += (r % sizes[i]) * strides[i];
      r /= sizes[i];
    }
    return off;
  }
};

int64_t grain_rows(int64_t row_len) {
  return std::max<int64_t>(1, at::internal::GRAIN_SIZE / std::max<int64_t>(1, row_len));
}

RT_VECTOR_CLONES float sum_of_squares(const float* __restrict x, int64_t n) {
  float acc[16] = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) acc[j] += x[i + j] * x[i + j];
  float tail = 0.0f;
  for (; i < n; ++i) tail += x[i] * x[i];
  for (int w = 8; w > 0; w /= 2)
    for (int j = 0; j < w; ++j) acc[j] += acc[j + w];
  return acc[0] + tail;
}

RT_VECTOR_CLONES void scale_row(const float* __restrict x, float r, const float* __restrict w, float* __restrict y,
                                int64_t n) {
  if (w != nullptr) {
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] * r) * w[i];
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * r;
  }
}

RT_VECTOR_CLONES void modulate_row(const float* __restrict x, const float* __restrict shift,
                                   const float* __restrict scale, float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * (scale[i] + 1.0f) + shift[i];
}

RT_VECTOR_CLONES void rotary_row(const float* __restrict x, const float* __restrict c, const float* __restrict s,
                                 float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; i += 2) {
    const float a = x[i];
    const float b = x[i + 1];
    y[i] = a * c[i] + (-b) * s[i];
    y[i + 1] = b * c[i + 1] + a * s[i + 1];
  }
}

}  // namespace

int64_t calls() noexcept { return g_calls.load(std::memory_order_relaxed); }

bool rms_norm(const at::Tensor& x, const at::Tensor* weight, double eps, at::Tensor& out) {
  if (!plain_float_cpu(x) || !x.is_contiguous() || recording({&x, weight})) return false;
  const int64_t d = x.size(-1);
  if (weight != nullptr &&
      (!plain_float_cpu(*weight) || weight->dim() != 1 || weight->size(0) != d || !weight->is_contiguous()))
    return false;
  out = at::empty(x.sizes(), x.options());
  const float* px = x.data_ptr<float>();
  const float* pw = weight != nullptr ? weight->data_ptr<float>() : nullptr;
  float* py = out.data_ptr<float>();
  const float eps_f = static_cast<float>(eps);
  const float d_f = static_cast<float>(d);
  const int64_t rows = x.numel() / d;
  at::parallel_for(0, rows, grain_rows(d), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* xr = px + r * d;
      const float mean = sum_of_squares(xr, d) / d_f;
      scale_row(xr, 1.0f / std::sqrt(mean + eps_f), pw, py + r * d, d);
    }
  });
  g_calls.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool modulate(const at::Tensor& x, const at::Tensor& shift, const at::Tensor& scale, at::Tensor& out) {
  if (!plain_float_cpu(x) || !x.is_contiguous() || !plain_float_cpu(shift) || !plain_float_cpu(scale) ||
      recording({&x, &shift, &scale}))
    return false;
  const int64_t d = x.size(-1);
  Rows rows(x);
  int64_t sh_strides[kMaxDims];
  int64_t sc_strides[kMaxDims];
  if (!rows.strides_of(shift, d, sh_strides) || !rows.strides_of(scale, d, sc_strides)) return false;
  out = at::empty(x.sizes(), x.options());
  const float* px = x.data_ptr<float>();
  const float* psh = shift.data_ptr<float>();
  const float* psc = scale.data_ptr<float>();
  float* py = out.data_ptr<float>();
  at::parallel_for(0, rows.count, grain_rows(d), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      modulate_row(px + r * d, psh + rows.offset(sh_strides, r), psc + rows.offset(sc_strides, r), py + r * d, d);
  });
  g_calls.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool rotary_interleaved(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin, at::Tensor& out) {
  if (!plain_float_cpu(x) || !plain_float_cpu(cos) || !plain_float_cpu(sin) || recording({&x, &cos, &sin}))
    return false;
  const int64_t d = x.size(-1);
  if (d % 2 != 0) return false;
  Rows rows(x);
  int64_t x_strides[kMaxDims];
  int64_t c_strides[kMaxDims];
  int64_t s_strides[kMaxDims];
  for (int64_t i = 0; i < rows.lead; ++i) x_strides[i] = x.stride(i);
  if (!rows.strides_of(cos, d, c_strides) || !rows.strides_of(sin, d, s_strides)) return false;
  out = at::empty(x.sizes(), x.options().memory_format(at::MemoryFormat::Contiguous));
  const float* px = x.data_ptr<float>();
  const float* pc = cos.data_ptr<float>();
  const float* ps = sin.data_ptr<float>();
  float* py = out.data_ptr<float>();
  at::parallel_for(0, rows.count, grain_rows(d), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      rotary_row(px + rows.offset(x_strides, r), pc + rows.offset(c_strides, r), ps + rows.offset(s_strides, r),
                 py + r * d, d);
  });
  g_calls.fetch_add(1, std::memory_order_relaxed);
  return true;
}

}  // namespace rt_fused
