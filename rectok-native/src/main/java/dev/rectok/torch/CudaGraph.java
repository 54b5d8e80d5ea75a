package dev.rectok.torch;

import static dev.rectok.torch.Call.check;
import static dev.rectok.torch.Call.rethrow;

import dev.rectok.api.Device;
import dev.rectok.torch.internal.CallFrame;
import dev.rectok.torch.internal.Shim;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * A CUDA graph ({@code torch.cuda.CUDAGraph}): the kernels a block of tensor work launches,
 * recorded once by {@link #capture} and launched again by {@link #replay} in one go, which removes
 * the per-kernel launch cost of a fixed-shape step (docs/generator.md#sampling-at-full-throughput).
 * Only CUDA builds of LibTorch 2.x have them ({@link #available()}); elsewhere {@link #capture}
 * throws {@link IllegalArgumentException} with the reason.
 *
 * <p>What a graph requires of the captured block: every tensor it reads or writes stays alive, at
 * the same address, for the graph's lifetime (update inputs in place, e.g. {@code fill_} or {@code
 * copy_}, before each replay; tensors created inside the block live in the graph's private memory
 * pool); no host synchronisation inside the block (no {@code toFloatArray}, no {@code item});
 * shapes fixed. Capturing records without computing: call {@link #replay} to run it.
 *
 * <p>Threading and ownership: capture and replay on one platform thread (LibTorch's current CUDA
 * stream is per OS thread; a virtual thread could move between carriers mid-capture, so it is
 * refused). The caller owns the graph and closes it; close is idempotent.
 */
public final class CudaGraph implements AutoCloseable {
  private MemorySegment handle;
  private final Device device;

  private CudaGraph(MemorySegment handle, Device device) {
    this.handle = handle;
    this.device = device;
  }

  /** Whether this shim was built with CUDA graphs (a CUDA build of LibTorch 2.x). */
  public static boolean available() {
    try {
      return (int) Shim.rt_cuda_graphs_available.MH.invokeExact() == 1;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * Why {@code device} cannot capture CUDA graphs, or null when it can: the device must be CUDA and
   * the shim built with CUDA graphs.
   */
  public static String unsupportedReason(Device device) {
    Objects.requireNonNull(device, "device");
    if (!device.isCuda()) {
      return "CUDA graphs need a CUDA device, not " + device;
    }
    if (!available()) {
      return "CUDA graphs need a CUDA build of LibTorch 2.x; this shim was built without them"
          + " (LibTorch "
          + Torch.version()
          + ")";
    }
    return null;
  }

  /**
   * Records {@code block}'s kernels on {@code device} into a new graph, without running them.
   *
   * @throws IllegalArgumentException when {@code device} cannot capture ({@link
   *     #unsupportedReason}) or the calling thread is virtual
   * @throws TorchException when CUDA refuses the capture (e.g. a host synchronisation inside)
   */
  public static CudaGraph capture(Device device, Runnable block) {
    Objects.requireNonNull(block, "block");
    String why = unsupportedReason(device);
    if (why != null) {
      throw new IllegalArgumentException(why);
    }
    if (Thread.currentThread().isVirtual()) {
      throw new IllegalArgumentException(
          "CUDA graph capture must run on a platform thread (the CUDA stream is per OS thread)");
    }
    CallFrame f = CallFrame.get();
    MemorySegment h;
    try {
      check(
          (int) Shim.rt_cuda_graph_new.MH.invokeExact(f.ctx, Math.max(0, device.index()), f.out),
          f);
      h = f.outSlot(0).get(ValueLayout.ADDRESS, 0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    CudaGraph g = new CudaGraph(h, device);
    boolean ok = false;
    try {
      g.call(Shim.rt_cuda_graph_capture_begin.MH);
      block.run();
      g.call(Shim.rt_cuda_graph_capture_end.MH);
      ok = true;
      return g;
    } finally {
      if (!ok) {
        g.close(); // ends an abandoned capture and restores the thread's stream
      }
    }
  }

  /** The device the graph runs on. */
  public Device device() {
    return device;
  }

  /** Launches the recorded kernels on the thread's current stream. */
  public void replay() {
    call(Shim.rt_cuda_graph_replay.MH);
  }

  private void call(java.lang.invoke.MethodHandle mh) {
    if (handle == null) {
      throw new IllegalStateException("CUDA graph already closed");
    }
    CallFrame f = CallFrame.get();
    try {
      check((int) mh.invokeExact(f.ctx, handle), f);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** Frees the graph and its memory pool. Idempotent. */
  @Override
  public void close() {
    if (handle == null) {
      return;
    }
    try {
      Shim.rt_cuda_graph_free.MH.invokeExact(handle);
    } catch (Throwable t) {
      throw rethrow(t);
    } finally {
      handle = null;
    }
  }
}
