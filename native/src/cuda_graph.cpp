// CUDA graphs of a fixed-shape step (issue 13): record the kernels one sampling step launches,
// then replay them with a single launch per step instead of hundreds of small ones.
//
// Only built into the shim for CUDA builds of LibTorch 2.x (at::cuda::CUDAGraph and its private
// memory pool); everywhere else every entry point fails with a sentence saying so, and
// rt_cuda_graphs_available() returns 0, so callers can refuse a "--cuda-graphs" flag up front.
// See docs/generator.md#sampling-at-full-throughput for how the sampler uses it.

#include "rectok_torch.h"
#include "guard.h"

#include <ATen/ATen.h>
#include <torch/csrc/api/include/torch/version.h>

#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>

#if defined(RT_WITH_CUDA) && TORCH_VERSION_MAJOR >= 2
#define RT_CUDA_GRAPHS 1
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

struct rt_cuda_graph {
#ifdef RT_CUDA_GRAPHS
  int device = 0;
  at::cuda::CUDAGraph graph;
  // The calling thread's stream before capture_begin; capture runs on a side stream (CUDA refuses
  // to capture the legacy default stream) and capture_end puts this one back.
  std::optional<c10::cuda::CUDAStream> previous;
  bool capturing = false;
  bool captured = false;
#else
  int unused = 0;
#endif
};

namespace {

using rt_guard::ArgError;
using rt_guard::set_error;

#define RT_GBEGIN RT_GUARD_BEGIN
#define RT_GEND RT_GUARD_END(rt_guard::as_is)

#ifndef RT_CUDA_GRAPHS
[[noreturn]] void unsupported() {
  throw ArgError("CUDA graphs need a CUDA build of LibTorch 2.x; this shim was built for LibTorch " +
                 std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) +
#ifdef RT_WITH_CUDA
                 " with CUDA"
#else
                 " without CUDA"
#endif
  );
}
#endif

// One entry point's body on a graph, on the graph's device, with the status/error convention of
// the shim; without CUDA graphs every call fails with the sentence above.
template <class Body>
rt_status graph_call(rt_ctx* ctx, rt_cuda_graph* graph, Body&& body) noexcept {
  RT_GBEGIN
#ifdef RT_CUDA_GRAPHS
  if (graph == nullptr) throw ArgError("CUDA graph handle is NULL");
  c10::cuda::CUDAGuard device(static_cast<c10::DeviceIndex>(graph->device));
  body(*graph);
#else
  unsupported();  // graph and body unused: -Wunused-parameter is off for the shim
#endif
  RT_GEND
}

}  // namespace

RT_API int32_t rt_cuda_graphs_available(void) noexcept {
#ifdef RT_CUDA_GRAPHS
  return 1;
#else
  return 0;
#endif
}

RT_API rt_status rt_cuda_graph_new(rt_ctx* ctx, int32_t device_index, rt_cuda_graph** out) noexcept {
  RT_GBEGIN
  if (out == nullptr) throw ArgError("out is NULL");
#ifdef RT_CUDA_GRAPHS
  if (device_index < 0 || device_index >= static_cast<int32_t>(c10::cuda::device_count())) {
    throw ArgError("no CUDA device " + std::to_string(device_index) + " (this machine has " +
                   std::to_string(static_cast<int>(c10::cuda::device_count())) + ")");
  }
  auto* g = new rt_cuda_graph();
  g->device = device_index;
  *out = g;
#else
  unsupported();
#endif
  RT_GEND
}

RT_API rt_status rt_cuda_graph_capture_begin(rt_ctx* ctx, rt_cuda_graph* graph) noexcept {
  return graph_call(ctx, graph, [](rt_cuda_graph& g) {
#ifdef RT_CUDA_GRAPHS
    if (g.capturing || g.captured) throw ArgError("this CUDA graph was already captured");
    auto dev = static_cast<c10::DeviceIndex>(g.device);
    // Work queued before the capture must be done: the side stream does not wait for it otherwise.
    c10::cuda::device_synchronize();
    g.previous = c10::cuda::getCurrentCUDAStream(dev);
    c10::cuda::setCurrentCUDAStream(c10::cuda::getStreamFromPool(false, dev));
    try {
      g.graph.capture_begin();
    } catch (...) {
      c10::cuda::setCurrentCUDAStream(*g.previous);
      throw;
    }
    g.capturing = true;
#endif
  });
}

RT_API rt_status rt_cuda_graph_capture_end(rt_ctx* ctx, rt_cuda_graph* graph) noexcept {
  return graph_call(ctx, graph, [](rt_cuda_graph& g) {
#ifdef RT_CUDA_GRAPHS
    if (!g.capturing) throw ArgError("capture_end without capture_begin");
    g.capturing = false;
    try {
      g.graph.capture_end();
    } catch (...) {
      c10::cuda::setCurrentCUDAStream(*g.previous);
      throw;
    }
    c10::cuda::setCurrentCUDAStream(*g.previous);
    g.captured = true;
#endif
  });
}

RT_API rt_status rt_cuda_graph_replay(rt_ctx* ctx, rt_cuda_graph* graph) noexcept {
  return graph_call(ctx, graph, [](rt_cuda_graph& g) {
#ifdef RT_CUDA_GRAPHS
    if (!g.captured) throw ArgError("replay of a CUDA graph that was not captured");
    g.graph.replay();  // on the thread's current stream, after the work already queued there
#endif
  });
}

RT_API void rt_cuda_graph_free(rt_cuda_graph* graph) noexcept {
  if (graph == nullptr) return;
  try {
#ifdef RT_CUDA_GRAPHS
    if (graph->capturing) {
      // A capture abandoned by an error: end it so the stream leaves capture mode, and restore
      // the thread's stream; the half-built graph is discarded.
      try {
        graph->graph.capture_end();
      } catch (...) {
      }
      c10::cuda::setCurrentCUDAStream(*graph->previous);
    }
#endif
    delete graph;
  } catch (...) {
  }
}
