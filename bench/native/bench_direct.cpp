// bench_direct: the C++ baseline of bench/run. Times, against this machine's LibTorch directly,
// the same work as the JMH benchmarks of the SDK, in the same process environment:
//   - OMP_WAIT_POLICY=PASSIVE (set before libgomp loads: re-execs itself if it was unset),
//   - glibc heap retention with the values NativeLibrary passes to rt_configure_malloc,
//   - intra-op threads = available cores unless OMP_NUM_THREADS/MKL_NUM_THREADS is set.
//
// Method, mirroring JMH's settings in bench/: 3 warm-up rounds, then 5 measured rounds of about
// 1 s each; a round's score is its mean time per operation; the median round is reported.
//
// Usage: bench_direct [--shim PATH/librectok_torch.so] [--warmup N] [--rounds N] [--round-ms MS]
//                     [--only downcall,add,matmul,mlp]
// Output: one line per measurement, "name median min max unit", plus '#' comment lines.

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/api/include/torch/version.h>

#include <dlfcn.h>
#include <malloc.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

int g_warmup = 3;
int g_rounds = 5;
double g_round_s = 1.0;
std::string g_only;  // comma-separated groups; empty = all

bool selected(const char* group) {
  if (g_only.empty()) return true;
  std::string list = "," + g_only + ",";
  return list.find("," + std::string(group) + ",") != std::string::npos;
}

struct Stats {
  double median, min, max;
};

// Keeps the optimizer from dropping work whose result is otherwise unused.
template <class T>
inline void sink(const T& v) {
  asm volatile("" : : "r"(&v) : "memory");
}

// Runs `op` in batches sized so that one batch takes >= 5 ms (the clock is read per batch only),
// then warm-up and measured rounds of ~g_round_s each. Returns seconds per op over the rounds.
template <class Op>
Stats measure(Op&& op) {
  long batch = 1;
  for (;;) {
    auto t0 = Clock::now();
    for (long i = 0; i < batch; ++i) op();
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (s >= 0.005) break;
    batch *= 2;
  }
  std::vector<double> per_op;
  for (int r = 0; r < g_warmup + g_rounds; ++r) {
    long ops = 0;
    auto t0 = Clock::now();
    double s = 0;
    do {
      for (long i = 0; i < batch; ++i) op();
      ops += batch;
      s = std::chrono::duration<double>(Clock::now() - t0).count();
    } while (s < g_round_s);
    if (r >= g_warmup) per_op.push_back(s / static_cast<double>(ops));
  }
  std::vector<double> sorted = per_op;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  double med = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  return {med, sorted.front(), sorted.back()};
}

void report(const char* name, const Stats& s, double scale, const char* unit) {
  std::printf("%s %.6g %.6g %.6g %s\n", name, s.median * scale, s.min * scale, s.max * scale, unit);
  std::fflush(stdout);
}

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
  return static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
}

// torch.optim.AdamW's single-tensor path, exactly as rt_adamw_step in native/src/rectok_torch.cpp.
void adamw_step(std::vector<at::Tensor>& params, std::vector<at::Tensor>& exp_avgs,
                std::vector<at::Tensor>& exp_avg_sqs, std::vector<int64_t>& steps, double lr, double beta1,
                double beta2, double eps, double weight_decay) {
  at::NoGradGuard no_grad;
  for (size_t i = 0; i < params.size(); ++i) {
    at::Tensor& p = params[i];
    const at::Tensor& grad = p.grad();
    if (!grad.defined()) continue;
    at::Tensor& exp_avg = exp_avgs[i];
    at::Tensor& exp_avg_sq = exp_avg_sqs[i];
    const double step = static_cast<double>(++steps[i]);
    p.mul_(1 - lr * weight_decay);
    exp_avg.mul_(beta1).add_(grad, 1 - beta1);
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
    const double bias_correction1 = 1 - std::pow(beta1, step);
    const double bias_correction2 = 1 - std::pow(beta2, step);
    const double step_size = lr / bias_correction1;
    const double bias_correction2_sqrt = std::sqrt(bias_correction2);
    at::Tensor denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps);
    p.addcdiv_(exp_avg, denom, -step_size);
  }
}

}  // namespace

int main(int argc, char** argv) {
  // libgomp reads OMP_WAIT_POLICY when it loads, i.e. before main: re-exec with it set, as the
  // SDK sets it before it loads LibTorch (unless the user set it).
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
    execv("/proc/self/exe", argv);
    std::perror("bench_direct: re-exec with OMP_WAIT_POLICY=PASSIVE failed");
    return 1;
  }
  // The values NativeLibrary.configureRuntime passes to rt_configure_malloc.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
  mallopt(M_TOP_PAD, 256 << 20);

  const char* shim = nullptr;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_direct: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--shim") shim = next();
    else if (a == "--warmup") g_warmup = std::atoi(next());
    else if (a == "--rounds") g_rounds = std::atoi(next());
    else if (a == "--round-ms") g_round_s = std::atof(next()) / 1000.0;
    else if (a == "--only") g_only = next();
    else {
      std::fprintf(stderr,
                   "usage: bench_direct [--shim PATH] [--warmup N] [--rounds N] [--round-ms MS] "
                   "[--only downcall,add,matmul,mlp]\n");
      return 2;
    }
  }
  if (g_rounds < 1) g_rounds = 1;

  const bool threads_from_env = std::getenv("OMP_NUM_THREADS") || std::getenv("MKL_NUM_THREADS");
  if (!threads_from_env) at::set_num_threads(available_cores());
  std::printf("# libtorch %s, intra-op threads %d (%s), OMP_WAIT_POLICY=%s, OPENBLAS_CORETYPE=%s\n",
              TORCH_VERSION, at::get_num_threads(), threads_from_env ? "from environment" : "cores",
              std::getenv("OMP_WAIT_POLICY"), std::getenv("OPENBLAS_CORETYPE") ? std::getenv("OPENBLAS_CORETYPE") : "");
  std::printf("# %d warm-up + %d rounds of %.0f ms; median round (min, max)\n", g_warmup, g_rounds, g_round_s * 1000);

  // ---- the shim's trivial functions, called from C++ through a function pointer
  if (shim && selected("downcall")) {
    void* lib = dlopen(shim, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      std::fprintf(stderr, "bench_direct: dlopen %s: %s\n", shim, dlerror());
      return 1;
    }
    auto noop = reinterpret_cast<void (*)()>(dlsym(lib, "rt_noop"));
    auto abi = reinterpret_cast<int32_t (*)()>(dlsym(lib, "rt_abi_version"));
    if (!noop || !abi) {
      std::fprintf(stderr, "bench_direct: rt_noop/rt_abi_version missing from %s\n", shim);
      return 1;
    }
    report("noop", measure([&] { noop(); }), 1e9, "ns");
    int32_t acc = 0;
    report("abi_version", measure([&] { acc += abi(); sink(acc); }), 1e9, "ns");
  }

  // ---- at::add of two 4-element float tensors, result destroyed
  if (selected("add")) {
    at::Tensor a = at::tensor({1.f, 2.f, 3.f, 4.f});
    at::Tensor b = at::tensor({5.f, 6.f, 7.f, 8.f});
    report("add4", measure([&] {
             at::Tensor c = at::add(a, b);
             sink(c);
           }),
           1e9, "ns");
  }

  // ---- matmul 1024^2 fp32, result freed at once
  if (selected("matmul")) {
    auto gen = at::detail::createCPUGenerator(0);
    at::Tensor a = at::randn({1024, 1024}, gen);
    at::Tensor b = at::randn({1024, 1024}, gen);
    report("matmul1024", measure([&] {
             at::Tensor c = at::matmul(a, b);
             sink(c);
           }),
           1e3, "ms");
  }

  // ---- MLP 784 -> 256 -> 10, GELU, batch 128: forward, cross-entropy, backward, AdamW, grads to none
  if (selected("mlp")) {
    constexpr int64_t kBatch = 128, kIn = 784, kHidden = 256, kClasses = 10;
    auto gen = at::detail::createCPUGenerator(0);
    at::Tensor x = at::randn({kBatch, kIn}, gen);
    at::Tensor y = at::randint(0, kClasses, {kBatch}, gen, at::kLong);
    auto param = [&](double scale, at::IntArrayRef shape) {
      return (at::randn(shape, gen) * scale).requires_grad_(true);
    };
    std::vector<at::Tensor> params = {param(1 / std::sqrt(double(kIn)), {kHidden, kIn}), param(0.01, {kHidden}),
                                      param(1 / std::sqrt(double(kHidden)), {kClasses, kHidden}),
                                      param(0.01, {kClasses})};
    std::vector<at::Tensor> m, v;
    for (auto& p : params) {
      m.push_back(at::zeros(p.sizes()));
      v.push_back(at::zeros(p.sizes()));
    }
    std::vector<int64_t> steps(params.size(), 0);
    report("mlp_step", measure([&] {
             at::Tensor h = at::gelu(at::linear(x, params[0], params[1]));
             at::Tensor logits = at::linear(h, params[2], params[3]);
             at::Tensor loss = at::cross_entropy_loss(logits, y);
             loss.backward();
             adamw_step(params, m, v, steps, 1e-3, 0.9, 0.999, 1e-8, 0.01);
             for (auto& p : params) p.mutable_grad().reset();
             sink(loss);
           }),
           1e3, "ms");
  }
  return 0;
}
