// issue 13: Linear through a oneDNN matmul whose weights were reordered once.
//
// LibTorch 1.13's bf16 linear hands oneDNN plain-layout weights, which the kernel re-blocks inside
// every call (and OpenBLAS's sgemm packs its weight panels inside every call). For inference the
// weights never change, so the SDK reorders them once into the layout of oneDNN's brgemm kernel
// (format_tag::any) and runs every call on that copy, with a float32 bias and a float32 result
// straight from the float32 accumulators. The packed layout depends on (K, N, dtype) only (checked
// for M = 1 ... 4096), so one copy serves every batch; a primitive is cached per (M, K, N, bias,
// dtype). LibTorch 1.13 links the system libdnnl.so.2, whose headers (libdnnl-dev) match it;
// LibTorch 2.x builds carry their own oneDNN and get the stubs.
#include "packed_linear.h"

#include "guard.h"

#include <ATen/Parallel.h>

#include <map>
#include <mutex>
#include <tuple>

#ifdef RT_WITH_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace rt_packed {

using rt_guard::ArgError;

#ifdef RT_WITH_DNNL

namespace {

using dnnl::memory;

// Rows used to ask oneDNN for the weight layout; any row count gives the same one for brgemm.
constexpr int64_t kLayoutRows = 256;

using Dt = memory::data_type;

struct State {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  std::mutex mu;
  std::map<std::tuple<int64_t, int64_t, Dt>, memory::desc> layouts;                    // (K, N, dtype) -> packed layout
  std::map<std::tuple<int64_t, int64_t, int64_t, bool, Dt>, dnnl::matmul> primitives;  // (M, K, N, bias, dtype)
};

// The dtype codes stored after a packed weight (the ABI's RT_F32 / RT_BF16 numbering).
constexpr float kF32Code = 0, kBf16Code = 3;

Dt dnnl_type(at::ScalarType t) {
  if (t == at::kFloat) return Dt::f32;
  if (t == at::kBFloat16) return Dt::bf16;
  throw ArgError("packed linear: weights are packed in float32 or bfloat16 only");
}

State& state() {
  static State* s = new State();  // never destroyed: forwards may run during static destruction
  return *s;
}

memory::desc plain(int64_t rows, int64_t cols, Dt dt = Dt::f32) {
  return memory::desc({rows, cols}, dt, memory::format_tag::ab);
}

// src and weights in dt, bias and dst float32
dnnl::matmul::primitive_desc describe(State& s, int64_t m, int64_t k, int64_t n, const memory::desc& w, bool bias,
                                      Dt dt) {
  dnnl::matmul::desc d = bias ? dnnl::matmul::desc(plain(m, k, dt), w, plain(1, n), plain(m, n))
                              : dnnl::matmul::desc(plain(m, k, dt), w, plain(m, n));
  return dnnl::matmul::primitive_desc(d, s.engine);
}

int64_t packed_floats(const memory::desc& md) { return static_cast<int64_t>((md.get_size() + 3) / 4); }

bool is_brgemm(const dnnl::matmul::primitive_desc& pd) { return std::string(pd.impl_info_str()).rfind("brg", 0) == 0; }

// The packed layout of an (N, K) weight in dt; the caller holds s.mu.
const memory::desc& layout(State& s, int64_t k, int64_t n, Dt dt) {
  auto key = std::make_tuple(k, n, dt);
  auto it = s.layouts.find(key);
  if (it != s.layouts.end()) return it->second;
  memory::desc any({k, n}, dt, memory::format_tag::any);
  auto pd = describe(s, kLayoutRows, k, n, any, true, dt);
  if (!is_brgemm(pd))
    throw ArgError(std::string("packed linear: oneDNN chose ") + pd.impl_info_str() + ", not a brgemm kernel");
  return s.layouts.emplace(key, pd.weights_desc()).first->second;
}

}  // namespace

std::string implementation(at::ScalarType dtype) {
  try {
    Dt dt = dnnl_type(dtype);
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    memory::desc any({1152, 1152}, dt, memory::format_tag::any);
    auto pd = describe(s, kLayoutRows, 1152, 1152, any, true, dt);
    return is_brgemm(pd) ? pd.impl_info_str() : "";
  } catch (const dnnl::error&) {
    return "";
  }
}

at::Tensor pack(const at::Tensor& weight, at::ScalarType dtype) {
  if (weight.dim() != 2 || weight.scalar_type() != at::kFloat || !weight.device().is_cpu())
    throw ArgError("packed linear: the weight must be a 2-D float32 CPU tensor");
  const int64_t n = weight.size(0), k = weight.size(1);
  if (n < 1 || k < 1) throw ArgError("packed linear: the weight is empty");
  const Dt dt = dnnl_type(dtype);
  State& s = state();
  memory::desc packed_md;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    packed_md = layout(s, k, n, dt);
  }
  const int64_t floats = packed_floats(packed_md);
  // the packed values, then (K, N, dtype) as exact floats: a packed weight names its own shape
  at::Tensor out = at::empty({floats + 3}, weight.options());
  out.data_ptr<float>()[floats] = static_cast<float>(k);
  out.data_ptr<float>()[floats + 1] = static_cast<float>(n);
  out.data_ptr<float>()[floats + 2] = dt == Dt::bf16 ? kBf16Code : kF32Code;
  at::Tensor w = weight.to(dtype).contiguous();
  // W (N, K) row-major is the (K, N) matrix in format "ba"
  memory src(memory::desc({k, n}, dt, memory::format_tag::ba), s.engine, w.data_ptr());
  memory dst(packed_md, s.engine, out.data_ptr());
  dnnl::stream strm(s.engine);
  at::get_num_threads();  // this thread's OpenMP team size follows LibTorch's setting
  dnnl::reorder(src, dst).execute(strm, src, dst);
  strm.wait();
  return out;
}

at::Tensor linear(const at::Tensor& input, const at::Tensor& packed, const at::Tensor& bias, int64_t n) {
  if (input.scalar_type() != at::kFloat || !input.device().is_cpu() || input.dim() < 1)
    throw ArgError("packed linear: the input must be a float32 CPU tensor with at least one dimension");
  if (input.requires_grad()) throw ArgError("packed linear is for inference: the input requires grad");
  if (packed.dim() != 1 || packed.numel() < 4 || packed.scalar_type() != at::kFloat || !packed.device().is_cpu() ||
      !packed.is_contiguous())
    throw ArgError("packed linear: the packed weight must come from rt_linear_pack_weight");
  const int64_t k = input.size(-1);
  if (n < 1 || k < 1) throw ArgError("packed linear: in and out features must be positive");
  const bool has_bias = bias.defined();
  if (has_bias && (bias.dim() != 1 || bias.size(0) != n || bias.scalar_type() != at::kFloat || !bias.device().is_cpu()))
    throw ArgError("packed linear: the bias must be a float32 CPU vector of out_features = " + std::to_string(n) +
                   " values");
  const float code = packed.data_ptr<float>()[packed.numel() - 1];
  if (code != kF32Code && code != kBf16Code)
    throw ArgError("packed linear: the packed weight must come from rt_linear_pack_weight");
  const Dt dt = code == kBf16Code ? Dt::bf16 : Dt::f32;
  std::vector<int64_t> out_shape(input.sizes().begin(), input.sizes().end());
  out_shape.back() = n;
  const int64_t m = input.numel() / k;
  at::Tensor out = at::empty(out_shape, input.options());
  if (m == 0) return out;
  State& s = state();
  dnnl::matmul prim;
  memory::desc w_md;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    w_md = layout(s, k, n, dt);
    const int64_t floats = packed_floats(w_md);
    const float* tail = packed.data_ptr<float>() + packed.numel() - 3;
    if (packed.numel() != floats + 3 || tail[0] != static_cast<float>(k) || tail[1] != static_cast<float>(n))
      throw ArgError("packed linear: the packed weight is not an (" + std::to_string(n) + ", " + std::to_string(k) +
                     ") weight (out_features " + std::to_string(n) + ", in_features = the input's last dimension " +
                     std::to_string(k) + ")");
    auto key = std::make_tuple(m, k, n, has_bias, dt);
    auto it = s.primitives.find(key);
    if (it == s.primitives.end()) {
      if (s.primitives.size() >= 512) s.primitives.clear();  // bounded: row counts vary with the batch
      it = s.primitives.emplace(key, dnnl::matmul(describe(s, m, k, n, w_md, has_bias, dt))).first;
    }
    prim = it->second;
  }
  at::Tensor x = (dt == Dt::bf16 ? input.to(at::kBFloat16) : input).contiguous();
  at::Tensor b = has_bias ? bias.contiguous() : bias;
  memory src(plain(m, k, dt), s.engine, x.data_ptr());
  memory wts(w_md, s.engine, packed.data_ptr());
  memory dst(plain(m, n), s.engine, out.data_ptr());
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wts}, {DNNL_ARG_DST, dst}};
  if (has_bias) args.emplace(DNNL_ARG_BIAS, memory(plain(1, n), s.engine, b.data_ptr()));
  dnnl::stream strm(s.engine);
  at::get_num_threads();  // this thread's OpenMP team size follows LibTorch's setting
  prim.execute(strm, args);
  strm.wait();
  return out;
}

#else  // no oneDNN headers at build time

std::string implementation(at::ScalarType) { return ""; }

at::Tensor pack(const at::Tensor&, at::ScalarType) {
  throw ArgError("packed linear: this shim was built without oneDNN (LibTorch 1.13 with libdnnl-dev)");
}

at::Tensor linear(const at::Tensor&, const at::Tensor&, const at::Tensor&, int64_t) {
  throw ArgError("packed linear: this shim was built without oneDNN (LibTorch 1.13 with libdnnl-dev)");
}

#endif

}  // namespace rt_packed
