package dev.rectok.torch;

import static dev.rectok.torch.Call.check;
import static dev.rectok.torch.Call.rethrow;

import dev.rectok.api.DType;
import dev.rectok.torch.internal.CallFrame;
import dev.rectok.torch.internal.NativeLibrary;
import dev.rectok.torch.internal.Shim;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

/**
 * Process-wide LibTorch runtime: versions, threads, seeding, CUDA queries. Stateless facade;
 * thread-safe. The first call loads the native library (see {@link NativeLibrary}).
 */
public final class Torch {
  private Torch() {}

  /** The ABI version the shim reports. */
  public static int abiVersion() {
    try {
      return (int) Shim.rt_abi_version.MH.invokeExact();
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * How many times, process-wide, one of the shim's fused CPU kernels (RMSNorm, {@link F#modulate},
   * {@link F#applyRotaryEmb}) ran instead of the composite ATen ops: a diagnostic for "is the fast
   * path in use here?" (it is not on CUDA, under autograd, or for dtypes other than float32).
   */
  public static long fusedKernelCalls() {
    try {
      return (long) Shim.rt_fused_calls.MH.invokeExact();
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** A call that does nothing, for measuring downcall overhead. */
  public static void noop() {
    try {
      Shim.rt_noop.MH.invokeExact();
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  private static String string(java.lang.invoke.MethodHandle mh, int cap) {
    CallFrame f = CallFrame.get();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buf = arena.allocate(cap);
      check((int) mh.invokeExact(f.ctx, buf, (long) cap), f);
      return buf.getString(0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** LibTorch's version, e.g. {@code 1.13.1}. */
  public static String version() {
    return string(Shim.rt_torch_version.MH, 256);
  }

  /**
   * LibTorch's build configuration and parallel settings ({@code torch.__config__.show()} +
   * parallel info).
   */
  public static String buildConfig() {
    return string(Shim.rt_build_config.MH, 1 << 16);
  }

  /**
   * oneDNN's matmul kernel that Linear weights packed in {@code dtype} run on (e.g. {@code
   * brg:avx512_core_bf16} for {@code BFLOAT16}), or "" where the shim has no packed path for it
   * (built without oneDNN, or a CPU without a brgemm kernel for that dtype). See {@link
   * dev.rectok.torch.nn.InferencePrecision#packingEnabled}. Thread-safe; asked once per dtype.
   *
   * @param dtype {@code FLOAT32} or {@code BFLOAT16}
   */
  public static String linearPacking(DType dtype) {
    return LINEAR_PACKING.computeIfAbsent(
        dtype,
        d -> {
          CallFrame f = CallFrame.get();
          try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(256);
            check((int) Shim.rt_linear_packing.MH.invokeExact(f.ctx, d.code(), buf, 256L), f);
            return buf.getString(0);
          } catch (Throwable t) {
            throw rethrow(t);
          }
        });
  }

  private static final java.util.Map<DType, String> LINEAR_PACKING =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** Path of the loaded shim. */
  public static Path nativeLibraryPath() {
    return NativeLibrary.path();
  }

  /** Intra-op threads of LibTorch. */
  public static int numThreads() {
    CallFrame f = CallFrame.get();
    try {
      check((int) Shim.rt_get_num_threads.MH.invokeExact(f.ctx, f.out), f);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    return f.out.get(ValueLayout.JAVA_INT, 0);
  }

  /** Sets LibTorch's intra-op threads. */
  public static void setNumThreads(int n) {
    Ops.setNumThreads(n);
  }

  /**
   * Seeds LibTorch's default generators ({@code torch.manual_seed}). Prefer {@link TorchGenerator}.
   */
  public static void manualSeed(long seed) {
    Ops.manualSeed(seed);
  }

  /** Visible CUDA devices (0 on a CPU-only LibTorch). */
  public static int cudaDeviceCount() {
    CallFrame f = CallFrame.get();
    try {
      check((int) Shim.rt_cuda_device_count.MH.invokeExact(f.ctx, f.out), f);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    return f.out.get(ValueLayout.JAVA_INT, 0);
  }

  /** Whether CUDA can be used. */
  public static boolean cudaIsAvailable() {
    return cudaDeviceCount() > 0;
  }

  /** Waits for all work on CUDA device {@code device}. */
  public static void cudaSynchronize(int device) {
    Ops.cudaSynchronize(device);
  }

  /** Bytes allocated and reserved by the CUDA caching allocator on {@code device}. */
  public record CudaMemory(long allocated, long reserved) {}

  /** Memory statistics of the CUDA caching allocator. */
  public static CudaMemory cudaMemoryStats(int device) {
    CallFrame f = CallFrame.get();
    try {
      check(
          (int) Shim.rt_cuda_memory_stats.MH.invokeExact(f.ctx, device, f.outSlot(0), f.outSlot(1)),
          f);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    return new CudaMemory(f.outHandle(0), f.outHandle(1));
  }

  /**
   * Returns cached, unused CUDA memory to the driver (the allocator's cache looks like a leak
   * otherwise).
   */
  public static void cudaEmptyCache() {
    Ops.cudaEmptyCache();
  }

  // --- issue 13: the CPU block allocator ---

  /**
   * Statistics of the CPU block allocator (docs/runtime.md#cpu-allocator), in bytes of whole size
   * classes; only blocks of at least {@code minBytes} are counted.
   *
   * @param live bytes held by tensors now
   * @param peak the most bytes held at once since start or {@link #cpuAllocatorResetPeak()}
   * @param cached bytes of freed blocks kept for reuse
   * @param hits allocations served from the cache
   * @param misses allocations that mapped a new block
   * @param minBytes the smallest request served by a block of its own
   * @param cacheBytes the cache's limit
   */
  public record CpuAllocatorStats(
      long live, long peak, long cached, long hits, long misses, long minBytes, long cacheBytes) {}

  /**
   * The CPU block allocator's statistics, or empty when it is not installed ({@code
   * -Drectok.blockAllocator=false}). Thread-safe.
   */
  public static java.util.Optional<CpuAllocatorStats> cpuAllocatorStats() {
    CallFrame f = CallFrame.get();
    MemorySegment out = f.longs(7);
    try {
      check((int) Shim.rt_cpu_allocator_stats.MH.invokeExact(f.ctx, out), f);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    long[] v = out.toArray(ValueLayout.JAVA_LONG);
    return v[0] < 0
        ? java.util.Optional.empty()
        : java.util.Optional.of(new CpuAllocatorStats(v[0], v[1], v[2], v[3], v[4], v[5], v[6]));
  }

  /** Starts the block allocator's peak over from the bytes live now. Thread-safe. */
  public static void cpuAllocatorResetPeak() {
    Ops.cpuAllocatorResetPeak();
  }

  /**
   * Returns the block allocator's cached free blocks to the system, e.g. after freeing a model's
   * weights. Thread-safe.
   */
  public static void cpuAllocatorTrim() {
    Ops.cpuAllocatorTrim();
  }
}
