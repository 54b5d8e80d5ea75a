// Issue 13 probe: does packing the Linear weights once pay over what LibTorch 1.13 does per call?
//
// For each (M, K, N) Linear shape of DiT^DH-XL, DiT^DH-S and the tokenizer it times, alternately:
//   aten       at::linear in the probe's dtype: float32 = OpenBLAS sgemm (packs the weight inside
//              every call); bfloat16 = oneDNN matmul via mkldnn_matmul (plain-layout weights,
//              reordered to the kernel's blocked layout inside every call), bf16 output
//   dnnl_pack  a oneDNN matmul primitive created once with format_tag::any weights, the weights
//              reordered once, bias f32, dst f32 straight from the kernel (the input cast included)
// and prints GFLOP/s. COPIES > 1 cycles through that many different weights of each shape, so that
// they stream from memory as a model's do (a model reads each weight once per forward); COPIES = 1
// reuses one weight, which then sits in the caches. Build and run (no CMake needed; libdnnl-dev):
//   g++ -O2 -std=c++17 bench/native/onednn_prepack_probe.cpp -o /tmp/probe \
//     -I/usr/include/torch/csrc/api/include -ltorch_cpu -lc10 -ldnnl
//   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 \
//     /tmp/probe [ROUNDS=3] [COPIES=1] [f32|bf16]
// OMP_NUM_THREADS matters: without it this LibTorch gives oneDNN one thread while OpenBLAS takes
// every core (a first fp32 reading here compared one oneDNN thread with two OpenBLAS ones).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

static double gflops(double flop, const std::function<void()>& op) {
  for (int i = 0; i < 2; i++) op();
  int n = 0;
  auto t0 = std::chrono::steady_clock::now();
  double s;
  do {
    op();
    n++;
    s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  } while (s < 0.3);
  return flop * n / s / 1e9;
}

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 3;
  const int copies = argc > 2 ? std::max(1, std::atoi(argv[2])) : 1;
  const bool bf16 = argc <= 3 || std::strcmp(argv[3], "f32") != 0;
  using namespace dnnl;
  const auto dt = bf16 ? memory::data_type::bf16 : memory::data_type::f32;
  const auto st = bf16 ? at::kBFloat16 : at::kFloat;
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  const long shapes[][3] = {{256, 1152, 1152}, {256, 1152, 3456}, {256, 1152, 4608}, {256, 4608, 1152},
                            {1024, 768, 2304}, {1024, 3072, 768}, {256, 384, 1152},  {256, 1536, 384},
                            {1, 1152, 6912}};
  std::printf("threads %d, %s, %d weight copies per shape\n%-18s %10s %10s %10s\n", at::get_num_threads(),
              bf16 ? "bf16" : "f32", copies, "M x K x N", "aten", "dnnl_pack", "pack/aten");
  for (auto& s : shapes) {
    const long M = s[0], K = s[1], N = s[2];
    at::Tensor x = at::randn({M, K});
    at::Tensor b = at::randn({N});
    at::Tensor y = at::empty({M, N});
    memory::desc src_md({M, K}, dt, memory::format_tag::ab);
    memory::desc wany_md({K, N}, dt, memory::format_tag::any);
    memory::desc bias_md({1, N}, memory::data_type::f32, memory::format_tag::ab);
    memory::desc dst_md({M, N}, memory::data_type::f32, memory::format_tag::ab);
    matmul::primitive_desc pd(matmul::desc(src_md, wany_md, bias_md, dst_md), eng);
    matmul prim(pd);
    std::vector<at::Tensor> ws;  // plain weights, in the probe's dtype
    std::vector<memory> packed;  // the same, reordered once
    for (int i = 0; i < copies; i++) {
      ws.push_back((at::randn({N, K}) * 0.02).to(st));
      // W (N, K) row-major is the (K, N) matrix in format "ba"
      memory plain({{K, N}, dt, memory::format_tag::ba}, eng, ws.back().data_ptr());
      packed.emplace_back(pd.weights_desc(), eng);
      reorder(plain, packed.back()).execute(strm, plain, packed.back());
    }
    strm.wait();
    at::Tensor xs = x.to(st), bs = b.to(st);
    memory bias_m(bias_md, eng, b.data_ptr());
    memory dst_m(dst_md, eng, y.data_ptr());
    const double flop = 2.0 * M * K * N;
    std::vector<double> a, d;
    int ia = 0, id = 0;
    for (int r = 0; r < rounds; r++) {
      a.push_back(gflops(flop, [&] { at::linear(xs, ws[ia++ % copies], bs); }));
      d.push_back(gflops(flop, [&] {
        // the input cast is part of the cost (activations arrive in float32)
        at::Tensor xb = x.to(st);
        memory src_m(src_md, eng, xb.data_ptr());
        prim.execute(strm, {{DNNL_ARG_SRC, src_m}, {DNNL_ARG_WEIGHTS, packed[id++ % copies]},
                            {DNNL_ARG_BIAS, bias_m}, {DNNL_ARG_DST, dst_m}});
        strm.wait();
      }));
    }
    std::printf("%5ldx%5ldx%5ld  %10.1f %10.1f %10.2f\n", M, K, N, median(a), median(d), median(d) / median(a));
  }
  return 0;
}
