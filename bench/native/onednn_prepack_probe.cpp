// Issue 13 probe: does packing the Linear weights once pay over what LibTorch 1.13 does per call?
//
// For each (M, K, N) Linear shape of DiT^DH-XL and the tokenizer it times, alternately:
//   aten_f32   at::linear in float32 (OpenBLAS sgemm: packs the weight inside every call)
//   aten_bf16  at::linear on bf16 x, W, b (oneDNN matmul via mkldnn_matmul: plain-layout weights,
//              reordered to the kernel's blocked layout inside every call), bf16 output
//   dnnl_pack  a oneDNN matmul primitive created once with format_tag::any weights, the weights
//              reordered once, bias f32, dst f32 straight from the kernel (no output cast)
// and prints GFLOP/s. Build and run (no CMake needed):
//   g++ -O2 -std=c++17 bench/native/onednn_prepack_probe.cpp -o /tmp/probe \
//     -I/usr/include/torch/csrc/api/include -ltorch_cpu -lc10 -ldnnl
//   OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 /tmp/probe [rounds]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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
  int rounds = argc > 1 ? std::atoi(argv[1]) : 3;
  using namespace dnnl;
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  const long shapes[][3] = {{256, 1152, 1152}, {256, 1152, 3456}, {256, 1152, 4608}, {256, 4608, 1152},
                            {1024, 768, 2304}, {1024, 3072, 768}, {1, 1152, 6912}};
  std::printf("threads %d\n%-18s %10s %10s %10s %10s\n", at::get_num_threads(), "M x K x N", "aten_f32", "aten_bf16",
              "dnnl_pack", "pack/bf16");
  for (auto& s : shapes) {
    const long M = s[0], K = s[1], N = s[2];
    at::Tensor x = at::randn({M, K});
    at::Tensor w = at::randn({N, K}) * 0.02;
    at::Tensor b = at::randn({N});
    at::Tensor x16 = x.to(at::kBFloat16), w16 = w.to(at::kBFloat16), b16 = b.to(at::kBFloat16);
    at::Tensor y = at::empty({M, N});

    memory::desc src_md({M, K}, memory::data_type::bf16, memory::format_tag::ab);
    memory::desc wany_md({K, N}, memory::data_type::bf16, memory::format_tag::any);
    memory::desc bias_md({1, N}, memory::data_type::f32, memory::format_tag::ab);
    memory::desc dst_md({M, N}, memory::data_type::f32, memory::format_tag::ab);
    matmul::primitive_desc pd(matmul::desc(src_md, wany_md, bias_md, dst_md), eng);
    matmul prim(pd);
    // W (N, K) row-major is the (K, N) matrix in format "ba"
    memory w_plain({{K, N}, memory::data_type::bf16, memory::format_tag::ba}, eng, w16.data_ptr());
    memory w_packed(pd.weights_desc(), eng);
    reorder(w_plain, w_packed).execute(strm, w_plain, w_packed);
    memory bias_m(bias_md, eng, b.data_ptr());
    memory dst_m(dst_md, eng, y.data_ptr());
    const double flop = 2.0 * M * K * N;
    std::vector<double> a, c, d;
    for (int r = 0; r < rounds; r++) {
      a.push_back(gflops(flop, [&] { at::linear(x, w, b); }));
      c.push_back(gflops(flop, [&] { at::linear(x16, w16, b16); }));
      d.push_back(gflops(flop, [&] {
        // the input cast is part of the cost (activations arrive in float32)
        at::Tensor xb = x.to(at::kBFloat16);
        memory src_m(src_md, eng, xb.data_ptr());
        prim.execute(strm, {{DNNL_ARG_SRC, src_m}, {DNNL_ARG_WEIGHTS, w_packed}, {DNNL_ARG_BIAS, bias_m},
                            {DNNL_ARG_DST, dst_m}});
        strm.wait();
      }));
    }
    at::Tensor ref = at::linear(x16, w16, b16).to(at::kFloat);
    double diff = (y - ref).abs().max().item<double>();
    std::printf("%5ldx%5ldx%5ld  %10.1f %10.1f %10.1f %10.2f   (max |pack - aten_bf16| %.3g)\n", M, K, N, median(a),
                median(c), median(d), median(d) / median(c), diff);
  }
  return 0;
}
