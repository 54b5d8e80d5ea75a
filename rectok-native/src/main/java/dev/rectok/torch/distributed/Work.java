package dev.rectok.torch.distributed;

import dev.rectok.torch.Tensor;
import dev.rectok.torch.internal.CallFrame;
import dev.rectok.torch.internal.Shim;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.List;

/**
 * A collective in flight ({@code c10d::Work}): returned at once by {@link ProcessGroup}'s
 * collectives; {@link #await} blocks until it finished and turns its failure (a dead peer, Gloo's
 * I/O timeout, the wait's own timeout) into a {@link DistributedException}.
 *
 * <p><b>Ownership.</b> Owns one native work handle, freed by {@link #close} (freeing it does not
 * cancel the collective; the native side keeps its tensors alive until it ends). The tensors the
 * collective reads and writes belong to the caller, who must not read them before {@link #await}
 * returned. <b>Threading.</b> Not thread-safe: one thread awaits and closes it.
 */
public final class Work implements AutoCloseable {
  private MemorySegment handle;
  private final String what;
  private final ProcessGroup group;
  private final List<Tensor> tensors; // kept reachable until the work is closed

  Work(MemorySegment handle, String what, ProcessGroup group, List<Tensor> tensors) {
    this.handle = handle;
    this.what = what;
    this.group = group;
    this.tensors = tensors;
  }

  /** Waits up to the group's timeout; see {@link #await(Duration)}. */
  public void await() {
    await(group.timeout());
  }

  /**
   * Waits until the collective finished, at most {@code timeout}.
   *
   * @throws DistributedException if it failed or did not finish in time; the group then diagnoses
   *     which ranks are lost (see {@link DistributedException#lostRanks()})
   */
  public void await(Duration timeout) {
    long ms = Native.millis(timeout, "wait timeout");
    CallFrame f = CallFrame.get();
    int status;
    try {
      status = (int) Shim.rt_work_wait.MH.invokeExact(f.ctx, live(), ms);
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    if (status != Shim.RT_OK) {
      throw group.failure(what, f.error());
    }
  }

  /** Whether the collective finished (successfully or not), without waiting. */
  public boolean isCompleted() {
    try (Arena a = Arena.ofConfined()) {
      CallFrame f = CallFrame.get();
      MemorySegment out = a.allocate(ValueLayout.JAVA_INT);
      Native.check((int) Shim.rt_work_is_completed.MH.invokeExact(f.ctx, live(), out), f, what);
      return out.get(ValueLayout.JAVA_INT, 0) != 0;
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
  }

  private MemorySegment live() {
    if (handle == null) {
      throw new IllegalStateException(what + ": work already closed");
    }
    return handle;
  }

  /** Frees the handle. Idempotent. */
  @Override
  public void close() {
    if (handle != null) {
      try {
        Shim.rt_work_free.MH.invokeExact(handle);
      } catch (Throwable t) {
        throw Native.rethrow(t);
      } finally {
        handle = null;
        java.lang.ref.Reference.reachabilityFence(tensors);
      }
    }
  }
}
