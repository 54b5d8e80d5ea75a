// c10d for the RecTok shim (issue 14): stores, process groups and collectives over LibTorch's
// own distributed engine (Gloo on the CPU; NCCL with a CUDA LibTorch 2.x), behind the flat C ABI
// of include/rectok_torch.h. How it is used: README.md, "Training on several GPUs or machines".
//
// Rules kept here as in rectok_torch.cpp: every entry point is noexcept, turns any C++ exception
// into a status and a message in the caller's rt_ctx, and never blocks past a caller-given
// timeout. Collectives return a work handle; rt_work_wait is where a failure of the collective
// (a dead peer, Gloo's I/O timeout) surfaces as a status.
//
// Built with RT_WITH_DISTRIBUTED (CMake defines it, with USE_C10D_GLOO and USE_DISTRIBUTED, when
// Gloo's headers are installed: Debian's libgloo-dev). Without it every function fails with a
// message that says how to get it.

#include "rectok_torch.h"
#include "guard.h"

#include <ATen/ATen.h>
#include <torch/csrc/api/include/torch/version.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#ifdef RT_WITH_DISTRIBUTED
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if defined(RT_WITH_CUDA) && TORCH_VERSION_MAJOR >= 2 && defined(USE_C10D_NCCL)
#define RT_WITH_NCCL 1
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#endif

// The same definition as in rectok_torch.cpp (one type across the library).
struct rt_tensor {
  at::Tensor t;
};

#ifdef RT_WITH_DISTRIBUTED
// 1.13: ProcessGroupGloo is a c10d::ProcessGroup; 2.x: a c10d::Backend behind a ProcessGroup.
// Both declare the collectives used here with the same signatures.
#if TORCH_VERSION_MAJOR >= 2
using rt_pg_base = c10d::Backend;
#else
using rt_pg_base = c10d::ProcessGroup;
#endif

struct rt_store {
  c10::intrusive_ptr<c10d::Store> s;
};
struct rt_pg {
  c10::intrusive_ptr<rt_pg_base> pg;
  bool nccl = false;
};
struct rt_work {
  c10::intrusive_ptr<c10d::Work> w;
  std::vector<at::Tensor> keep;  // the tensors the collective reads and writes, alive until freed
  bool nccl = false;
};
#else
struct rt_store {
  int unused;
};
struct rt_pg {
  int unused;
};
struct rt_work {
  int unused;
};
#endif

namespace {

using rt_guard::ArgError;
using rt_guard::set_error;

// Gloo prefixes its messages with "[/build/path/file.cc:123] "; the caller wants the sentence.
std::string without_source_location(const char* what) {
  std::string s(what);
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find("] ");
    if (close != std::string::npos && close < 200) return s.substr(close + 2);
  }
  return s;
}

#define RT_DBEGIN RT_GUARD_BEGIN
#define RT_DEND RT_GUARD_END(without_source_location)

std::string str(const char* p, const char* what) {
  if (p == nullptr) throw ArgError(std::string(what) + " is NULL");
  return std::string(p);
}

template <class P>
P* need(P* p, const char* what) {
  if (p == nullptr) throw ArgError(std::string(what) + " handle is NULL");
  return p;
}

#ifdef RT_WITH_DISTRIBUTED
std::chrono::milliseconds millis(int64_t ms, const char* what) {
  if (ms <= 0) throw ArgError(std::string(what) + " must be > 0 ms, got " + std::to_string(ms));
  return std::chrono::milliseconds(ms);
}

const at::Tensor& tensor(const rt_tensor* h, const char* what) {
  if (h == nullptr) throw ArgError(std::string(what) + " handle is NULL");
  return h->t;
}

std::vector<at::Tensor> tensors(rt_tensor** ts, int64_t n, const char* what) {
  if (n < 1 || ts == nullptr) throw ArgError(std::string(what) + ": the tensor list is NULL or empty");
  std::vector<at::Tensor> v;
  v.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v.push_back(tensor(ts[i], what));
  return v;
}

// Gloo reduces dense, contiguous tensors in place; a view or a strided tensor would be reduced
// into a temporary and the result lost, so refuse it rather than return wrong numbers.
void check_dense(const at::Tensor& t, const char* what) {
  if (!t.defined()) throw ArgError(std::string(what) + ": undefined tensor");
  if (t.is_sparse()) throw ArgError(std::string(what) + ": sparse tensors are not supported");
  if (!t.is_contiguous()) throw ArgError(std::string(what) + ": the tensor must be contiguous");
}

c10d::ReduceOp reduce_op(int32_t op) {
  switch (op) {
    case RT_REDUCE_SUM: return c10d::ReduceOp(c10d::ReduceOp::SUM);
    case RT_REDUCE_PRODUCT: return c10d::ReduceOp(c10d::ReduceOp::PRODUCT);
    case RT_REDUCE_MIN: return c10d::ReduceOp(c10d::ReduceOp::MIN);
    case RT_REDUCE_MAX: return c10d::ReduceOp(c10d::ReduceOp::MAX);
    default: throw ArgError("invalid reduce op " + std::to_string(op));
  }
}

void put_work(rt_work** out, c10::intrusive_ptr<c10d::Work> w, std::vector<at::Tensor> keep, bool nccl) {
  if (out == nullptr) throw ArgError("out pointer is NULL");
  auto* h = new rt_work();
  h->w = std::move(w);
  h->keep = std::move(keep);
  h->nccl = nccl;
  *out = h;
}

void check_rank(int32_t rank, int32_t world_size) {
  if (world_size < 1 || rank < 0 || rank >= world_size) {
    throw ArgError("rank must be in 0.." + std::to_string(world_size - 1) + " for world size " +
                   std::to_string(world_size) + ", got " + std::to_string(rank));
  }
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) parts.push_back(item);
  }
  return parts;
}
#else
[[noreturn]] void unavailable() {
  throw std::runtime_error(
      "this shim was built without c10d/Gloo: install libgloo-dev (bin/setup does) and rebuild the shim");
}
#endif

}  // namespace

RT_API int32_t rt_distributed_available(void) noexcept {
#ifdef RT_WITH_DISTRIBUTED
#ifdef RT_WITH_NCCL
  return 3;
#else
  return 1;
#endif
#else
  return 0;
#endif
}

RT_API rt_status rt_store_tcp(rt_ctx* ctx, const char* host, int32_t port, int32_t is_server, int32_t world_size,
                              int64_t timeout_ms, rt_store** out) noexcept {
  RT_DBEGIN
#ifdef RT_WITH_DISTRIBUTED
  std::string h = str(host, "host");
  if (port < 0 || port > 65535) throw ArgError("port must be in 0..65535, got " + std::to_string(port));
  if (world_size < 1) throw ArgError("world size must be >= 1, got " + std::to_string(world_size));
  if (out == nullptr) throw ArgError("out pointer is NULL");
  c10d::TCPStoreOptions o;
  o.port = static_cast<std::uint16_t>(port);
  o.isServer = is_server != 0;
  o.numWorkers = static_cast<std::size_t>(world_size);
  // The caller runs its own join protocol (it names missing ranks); the server does not block here.
  o.waitWorkers = false;
  o.timeout = millis(timeout_ms, "store timeout");
  *out = new rt_store{c10::make_intrusive<c10d::TCPStore>(h, o)};
#else
  unavailable();
#endif
  RT_DEND
}

RT_API rt_status rt_store_file(rt_ctx* ctx, const char* path, int32_t world_size, int64_t timeout_ms,
                               rt_store** out) noexcept {
  RT_DBEGIN
#ifdef RT_WITH_DISTRIBUTED
  std::string p = str(path, "path");
  if (world_size < 1) throw ArgError("world size must be >= 1, got " + std::to_string(world_size));
  if (out == nullptr) throw ArgError("out pointer is NULL");
  auto s = c10::make_intrusive<c10d::FileStore>(p, world_size);
  s->setTimeout(millis(timeout_ms, "store timeout"));
  *out = new rt_store{s};
#else
  unavailable();
#endif
  RT_DEND
}

RT_API rt_status rt_store_prefix(rt_ctx* ctx, const char* prefix, rt_store* base, rt_store** out) noexcept {
  RT_DBEGIN
#ifdef RT_WITH_DISTRIBUTED
  std::string p = str(prefix, "prefix");
  need(base, "store");
  if (out == nullptr) throw ArgError("out pointer is NULL");
  *out = new rt_store{c10::make_intrusive<c10d::PrefixStore>(p, base->s)};
#else
  unavailable();
#endif
  RT_DEND
}

RT_API void rt_store_free(rt_store* store) noexcept { delete store; }

RT_API rt_status rt_store_set(rt_ctx* ctx, rt_store* store, const char* key, void* data, int64_t nbytes) noexcept {
  RT_DBEGIN
#ifdef RT_WITH_DISTRIBUTED
  std::string k = str(key, "key");
  need(store, "store");
  if (nbytes < 0 || (nbytes > 0 && data == nullptr)) throw ArgError("value is NULL or has a negative length");
  const auto* b = static_cast<const uint8_t*>(data);
  store->s->set(k, std::vector<uint8_t>(b, b + nbytes));
#else
  unavailable();
#endif
  RT_DEND
}

RT_API rt_status rt_store_get(rt_ctx* ctx, rt_store* store, const char* key, void* buf, int64_t cap,
                              int64_t* len) noexcept {
  RT_DBEGIN
#ifdef RT_WITH_DISTRIBUTED
  std::string k = str(key, "key");
  need(store, "store");
  if (len == nullptr || cap < 0 || (cap > 0 && buf == nullptr)) throw ArgError("buffer or length pointer is NULL");
  std::vector<uint8_t> v = store->s->get(k);  // waits for the key up to the store's timeout
  *len = static_cast<int64_t>(v.size());
  if (static_cast<int64_t>(v.size()) > cap) {
    throw ArgError("value of key '" + k + "' has " + std::to_string(v.size()) + " bytes, the buffer " +
                   std::to_string(cap));
  }
  if (!v.empty()) std::memcpy(buf, v.data(), v.size());
#else
  unavailable();
#endif
  RT_DEND
}

RT_API rt_status rt_store_add(rt_ctx* ctx, rt_store* store, const char* key, int64_t delta, int64_t* out) noexcept {
  RT_DBEGIN
#ifdef RT_WITH_DISTRIBUTED
  std::string k = str(key, "key");
  need(store, "store");
  if (out == nullptr) throw ArgError("out pointer is NULL");
  *out = store->s->add(k, delta);
#else
  unavailable();
#endif
  RT_DEND
}

RT_API rt_status rt_store_check(rt_ctx* ctx, rt_store* store, const char* key, int32_t* out) noexcept {
  RT_DBEGIN
#ifdef RT_WITH_DISTRIBUTED
  std::string k = str(key, "key");
  need(store, "store");
  if (out == nullptr) throw ArgError("out pointer is NULL");
  *out = store->s->check({k}) ? 1 : 0;
#else
  unavailable();
#endif
  RT_DEND
}

RT_API rt_status rt_pg_gloo(rt_ctx* ctx, rt_store* store, int32_t rank, int32_t world_size, const char* ifnames,
                            const char* hostname, int32_t threads, int64_t timeout_ms, rt_pg** out) noexcept {
  RT_DBEGIN
#ifdef RT_WITH_DISTRIBUTED
  need(store, "store");
  check_rank(rank, world_size);
  if (threads < 1) throw ArgError("threads must be >= 1, got " + std::to_string(threads));
  if (out == nullptr) throw ArgError("out pointer is NULL");
  auto opts = c10d::ProcessGroupGloo::Options::create(millis(timeout_ms, "process group timeout"));
  // GLOO_SOCKET_IFNAME is read by PyTorch's Python binding, not by c10d: the caller passes it.
  if (ifnames != nullptr) {
    for (const auto& ifc : split_list(ifnames)) {
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifc));
    }
  }
  if (opts->devices.empty() && hostname != nullptr && hostname[0] != '\0') {
    opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(hostname));
  }
  if (opts->devices.empty()) opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  opts->threads = threads;
  // The constructor connects the full mesh (eager: lazy init hangs when a peer dies).
  auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store->s, rank, world_size, opts);
  auto* h = new rt_pg();
  h->pg = pg;
  *out = h;
#else
  unavailable();
#endif
  RT_DEND
}

RT_API rt_status rt_pg_nccl(rt_ctx* ctx, rt_store* store, int32_t rank, int32_t world_size, int32_t device,
                            int64_t timeout_ms, rt_pg** out) noexcept {
  RT_DBEGIN
#ifdef RT_WITH_NCCL
  need(store, "store");
  check_rank(rank, world_size);
  if (out == nullptr) throw ArgError("out pointer is NULL");
  // NCCL binds to the current device at construction.
  c10::cuda::set_device(static_cast<c10::DeviceIndex>(device));
  auto opts = c10d::ProcessGroupNCCL::Options::create();
  opts->timeout = millis(timeout_ms, "process group timeout");
  auto pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(store->s, rank, world_size, opts);
  auto* h = new rt_pg();
  h->pg = pg;
  h->nccl = true;
  *out = h;
#else
  throw std::runtime_error(
      "NCCL process groups need a CUDA LibTorch 2.x with c10d NCCL (this shim was built without it)");
#endif
  RT_DEND
}

RT_API void rt_pg_free(rt_pg* pg) noexcept { delete pg; }

RT_API rt_status rt_pg_allreduce(rt_ctx* ctx, rt_pg* pg, rt_tensor* t, int32_t op, rt_work** out) noexcept {
  RT_DBEGIN
#ifdef RT_WITH_DISTRIBUTED
  need(pg, "process group");
  std::vector<at::Tensor> v{tensor(t, "allreduce")};
  check_dense(v[0], "allreduce");
  c10d::AllreduceOptions o;
  o.reduceOp = reduce_op(op);
  auto w = pg->pg->allreduce(v, o);
  put_work(out, w, v, pg->nccl);
#else
  unavailable();
#endif
  RT_DEND
}

RT_API rt_status rt_pg_allreduce_coalesced(rt_ctx* ctx, rt_pg* pg, rt_tensor** ts, int64_t n, int32_t op,
                                           rt_work** out) noexcept {
  RT_DBEGIN
#ifdef RT_WITH_DISTRIBUTED
  need(pg, "process group");
  std::vector<at::Tensor> v = tensors(ts, n, "allreduce_coalesced");
  for (const auto& x : v) {
    check_dense(x, "allreduce_coalesced");
    if (x.scalar_type() != v[0].scalar_type() || x.device() != v[0].device()) {
      throw ArgError("allreduce_coalesced: all tensors must have one dtype and device");
    }
  }
  c10d::AllreduceCoalescedOptions o;
  o.reduceOp = reduce_op(op);
  auto w = pg->pg->allreduce_coalesced(v, o);
  put_work(out, w, v, pg->nccl);
#else
  unavailable();
#endif
  RT_DEND
}

RT_API rt_status rt_pg_broadcast(rt_ctx* ctx, rt_pg* pg, rt_tensor* t, int32_t root, rt_work** out) noexcept {
  RT_DBEGIN
#ifdef RT_WITH_DISTRIBUTED
  need(pg, "process group");
  if (root < 0 || root >= pg->pg->getSize()) {
    throw ArgError("broadcast root must be in 0.." + std::to_string(pg->pg->getSize() - 1) + ", got " +
                   std::to_string(root));
  }
  std::vector<at::Tensor> v{tensor(t, "broadcast")};
  check_dense(v[0], "broadcast");
  c10d::BroadcastOptions o;
  o.rootRank = root;
  o.rootTensor = 0;
  auto w = pg->pg->broadcast(v, o);
  put_work(out, w, v, pg->nccl);
#else
  unavailable();
#endif
  RT_DEND
}

RT_API rt_status rt_pg_allgather(rt_ctx* ctx, rt_pg* pg, rt_tensor* input, rt_tensor** outputs, int64_t n,
                                 rt_work** out) noexcept {
  RT_DBEGIN
#ifdef RT_WITH_DISTRIBUTED
  need(pg, "process group");
  const at::Tensor& in = tensor(input, "allgather input");
  check_dense(in, "allgather input");
  if (n != pg->pg->getSize()) {
    throw ArgError("allgather needs one output per rank (" + std::to_string(pg->pg->getSize()) + "), got " +
                   std::to_string(n));
  }
  std::vector<at::Tensor> outs = tensors(outputs, n, "allgather output");
  for (const auto& o : outs) {
    check_dense(o, "allgather output");
    if (o.sizes() != in.sizes() || o.scalar_type() != in.scalar_type()) {
      throw ArgError("allgather outputs must have the input's shape and dtype");
    }
  }
  std::vector<std::vector<at::Tensor>> o2{outs};
  std::vector<at::Tensor> i2{in};
  auto w = pg->pg->allgather(o2, i2);
  std::vector<at::Tensor> keep = outs;
  keep.push_back(in);
  put_work(out, w, keep, pg->nccl);
#else
  unavailable();
#endif
  RT_DEND
}

RT_API rt_status rt_pg_barrier(rt_ctx* ctx, rt_pg* pg, rt_work** out) noexcept {
  RT_DBEGIN
#ifdef RT_WITH_DISTRIBUTED
  need(pg, "process group");
  auto w = pg->pg->barrier(c10d::BarrierOptions());
  put_work(out, w, {}, pg->nccl);
#else
  unavailable();
#endif
  RT_DEND
}

RT_API rt_status rt_pg_monitored_barrier(rt_ctx* ctx, rt_pg* pg, int64_t timeout_ms) noexcept {
  RT_DBEGIN
#ifdef RT_WITH_DISTRIBUTED
  need(pg, "process group");
  if (pg->nccl) throw ArgError("monitored_barrier is a Gloo operation");
  c10d::BarrierOptions o;
  o.timeout = millis(timeout_ms, "monitored barrier timeout");
  // Rank 0 collects every rank that does not answer and names them in the error.
  pg->pg->monitoredBarrier(o, /*waitAllRanks=*/true);
#else
  unavailable();
#endif
  RT_DEND
}

RT_API rt_status rt_work_wait(rt_ctx* ctx, rt_work* work, int64_t timeout_ms) noexcept {
  RT_DBEGIN
#ifdef RT_WITH_DISTRIBUTED
  need(work, "work");
  // wait() throws the collective's own error (the failed peer's address, Gloo's timeout), or
  // "Operation timed out!" when timeout_ms elapses first.
  work->w->wait(millis(timeout_ms, "wait timeout"));
#ifdef RT_WITH_NCCL
  // NCCL's wait only orders the current stream; the caller reads the result on the host.
  if (work->nccl) c10::cuda::getCurrentCUDAStream().synchronize();
#endif
#else
  unavailable();
#endif
  RT_DEND
}

RT_API rt_status rt_work_is_completed(rt_ctx* ctx, rt_work* work, int32_t* out) noexcept {
  RT_DBEGIN
#ifdef RT_WITH_DISTRIBUTED
  need(work, "work");
  if (out == nullptr) throw ArgError("out pointer is NULL");
  *out = work->w->isCompleted() ? 1 : 0;
#else
  unavailable();
#endif
  RT_DEND
}

RT_API void rt_work_free(rt_work* work) noexcept { delete work; }
