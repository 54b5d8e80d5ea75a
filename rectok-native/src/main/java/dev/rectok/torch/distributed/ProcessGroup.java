package dev.rectok.torch.distributed;

import dev.rectok.torch.Tensor;
import dev.rectok.torch.internal.CallFrame;
import dev.rectok.torch.internal.Shim;
import dev.rectok.torch.internal.TensorAccess;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Reference;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A c10d process group ({@code torch.distributed.ProcessGroup}): {@link #gloo} on the CPU (and for
 * CPU tensors anywhere), {@link #nccl} for CUDA tensors with a CUDA LibTorch 2.x. Collectives are
 * asynchronous and return a {@link Work}; tensors are reduced, broadcast or gathered in place and
 * must be dense and contiguous.
 *
 * <p>Every rank must issue the same collectives, with tensors of the same shapes and dtypes, in the
 * same order (c10d's rule). A dead peer or a peer silent for longer than the group's timeout fails
 * the collective in every surviving rank; nothing waits longer than that timeout.
 *
 * <p><b>Ownership.</b> Owns one native process group, freed by {@link #close} (which waits for
 * collectives still queued, at most the timeout). <b>Threading.</b> Issue collectives from one
 * thread at a time; {@link #rank}, {@link #size} and {@link #timeout} may be read from any thread.
 */
public final class ProcessGroup implements AutoCloseable {
  /**
   * Gloo options.
   *
   * @param timeout how long a collective, and the connection of the full mesh, may take
   * @param threads Gloo worker threads (PyTorch's default: 2)
   * @param ifnames network interfaces to use, comma-separated ({@code GLOO_SOCKET_IFNAME}), or null
   * @param hostname the address to bind when no interface is given (e.g. {@code 127.0.0.1} for a
   *     single machine), or null for the address the host name resolves to
   */
  public record GlooOptions(Duration timeout, int threads, String ifnames, String hostname) {
    /** Checks the values. */
    public GlooOptions {
      Native.millis(timeout, "process group timeout");
      if (threads < 1) {
        throw new IllegalArgumentException("Gloo threads must be >= 1, got " + threads);
      }
    }

    /** {@code timeout}, 2 threads, the default device. */
    public static GlooOptions of(Duration timeout) {
      return new GlooOptions(timeout, 2, null, null);
    }
  }

  private MemorySegment handle;
  private final int rank;
  private final int size;
  private final Duration timeout;
  private final String backend;
  private volatile Liveness liveness;

  private ProcessGroup(MemorySegment handle, int rank, int size, Duration timeout, String backend) {
    this.handle = handle;
    this.rank = rank;
    this.size = size;
    this.timeout = timeout;
    this.backend = backend;
  }

  /**
   * A Gloo group of {@code size} ranks meeting in {@code store}. Blocks until every rank joined (at
   * most the timeout). The store is borrowed (the group keeps what it needs).
   *
   * @throws DistributedException if a peer does not come in time or the network setup fails
   */
  public static ProcessGroup gloo(Store store, int rank, int size, GlooOptions options) {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(options, "options");
    checkRank(rank, size);
    long ms = Native.millis(options.timeout(), "process group timeout");
    store.lock().readLock().lock();
    try (Arena a = Arena.ofConfined()) {
      CallFrame f = CallFrame.get();
      MemorySegment ifn =
          options.ifnames() == null ? MemorySegment.NULL : a.allocateFrom(options.ifnames());
      MemorySegment host =
          options.hostname() == null ? MemorySegment.NULL : a.allocateFrom(options.hostname());
      Native.check(
          (int)
              Shim.rt_pg_gloo.MH.invokeExact(
                  f.ctx, store.live(), rank, size, ifn, host, options.threads(), ms, f.out),
          f,
          "Gloo process group (rank " + rank + " of " + size + ")");
      return new ProcessGroup(Native.outPointer(f), rank, size, options.timeout(), "gloo");
    } catch (Throwable t) {
      throw Native.rethrow(t);
    } finally {
      store.lock().readLock().unlock();
    }
  }

  /**
   * An NCCL group on CUDA device {@code device} (needs a shim built against a CUDA LibTorch 2.x;
   * elsewhere it throws a {@link DistributedException} saying so).
   */
  public static ProcessGroup nccl(Store store, int rank, int size, int device, Duration timeout) {
    Objects.requireNonNull(store, "store");
    checkRank(rank, size);
    long ms = Native.millis(timeout, "process group timeout");
    store.lock().readLock().lock();
    try {
      CallFrame f = CallFrame.get();
      Native.check(
          (int) Shim.rt_pg_nccl.MH.invokeExact(f.ctx, store.live(), rank, size, device, ms, f.out),
          f,
          "NCCL process group (rank " + rank + " of " + size + ")");
      return new ProcessGroup(Native.outPointer(f), rank, size, timeout, "nccl");
    } catch (Throwable t) {
      throw Native.rethrow(t);
    } finally {
      store.lock().readLock().unlock();
    }
  }

  private static void checkRank(int rank, int size) {
    if (size < 1 || rank < 0 || rank >= size) {
      throw new IllegalArgumentException(
          "rank must be in 0.." + (size - 1) + " for world size " + size + ", got " + rank);
    }
  }

  /** This process's rank, 0 .. size − 1. */
  public int rank() {
    return rank;
  }

  /** The number of ranks. */
  public int size() {
    return size;
  }

  /** The timeout of collectives and of {@link Work#await()}. */
  public Duration timeout() {
    return timeout;
  }

  /** {@code "gloo"} or {@code "nccl"}. */
  public String backend() {
    return backend;
  }

  /** Element-wise reduction of {@code t} over all ranks, in place, into every rank's {@code t}. */
  public Work allreduce(Tensor t, ReduceOp op) {
    CallFrame f = CallFrame.get();
    try {
      Native.check(
          (int)
              Shim.rt_pg_allreduce.MH.invokeExact(
                  f.ctx, live(), TensorAccess.handle(t), op.code, f.out),
          f,
          "allreduce");
      return new Work(Native.outPointer(f), "allreduce", this, List.of(t));
    } catch (Throwable e) {
      throw Native.rethrow(e);
    } finally {
      Reference.reachabilityFence(t);
    }
  }

  /** {@link #allreduce} of several tensors of one dtype as one collective (Gloo flattens them). */
  public Work allreduceCoalesced(List<Tensor> ts, ReduceOp op) {
    if (ts.isEmpty()) {
      throw new IllegalArgumentException("allreduce_coalesced needs at least one tensor");
    }
    try (Arena a = Arena.ofConfined()) {
      CallFrame f = CallFrame.get();
      MemorySegment arr = handles(a, ts);
      Native.check(
          (int)
              Shim.rt_pg_allreduce_coalesced.MH.invokeExact(
                  f.ctx, live(), arr, (long) ts.size(), op.code, f.out),
          f,
          "allreduce_coalesced");
      return new Work(Native.outPointer(f), "allreduce_coalesced", this, List.copyOf(ts));
    } catch (Throwable e) {
      throw Native.rethrow(e);
    } finally {
      Reference.reachabilityFence(ts);
    }
  }

  /** Copies rank {@code root}'s {@code t} into every rank's {@code t}. */
  public Work broadcast(Tensor t, int root) {
    CallFrame f = CallFrame.get();
    try {
      Native.check(
          (int)
              Shim.rt_pg_broadcast.MH.invokeExact(
                  f.ctx, live(), TensorAccess.handle(t), root, f.out),
          f,
          "broadcast");
      return new Work(Native.outPointer(f), "broadcast", this, List.of(t));
    } catch (Throwable e) {
      throw Native.rethrow(e);
    } finally {
      Reference.reachabilityFence(t);
    }
  }

  /**
   * Gathers every rank's {@code input} into {@code outputs.get(r)} (one tensor per rank, each of
   * the input's shape and dtype) on every rank.
   */
  public Work allgather(Tensor input, List<Tensor> outputs) {
    try (Arena a = Arena.ofConfined()) {
      CallFrame f = CallFrame.get();
      MemorySegment arr = handles(a, outputs);
      Native.check(
          (int)
              Shim.rt_pg_allgather.MH.invokeExact(
                  f.ctx, live(), TensorAccess.handle(input), arr, (long) outputs.size(), f.out),
          f,
          "allgather");
      List<Tensor> keep = new java.util.ArrayList<>(outputs);
      keep.add(input);
      return new Work(Native.outPointer(f), "allgather", this, keep);
    } catch (Throwable e) {
      throw Native.rethrow(e);
    } finally {
      Reference.reachabilityFence(input);
      Reference.reachabilityFence(outputs);
    }
  }

  /** Completes when every rank reached it. */
  public Work barrier() {
    CallFrame f = CallFrame.get();
    try {
      Native.check((int) Shim.rt_pg_barrier.MH.invokeExact(f.ctx, live(), f.out), f, "barrier");
      return new Work(Native.outPointer(f), "barrier", this, List.of());
    } catch (Throwable e) {
      throw Native.rethrow(e);
    }
  }

  /**
   * Gloo's monitored barrier: rank 0 waits up to {@code timeout} for every rank and names in its
   * error each rank that did not answer. Blocking.
   */
  public void monitoredBarrier(Duration timeout) {
    long ms = Native.millis(timeout, "monitored barrier timeout");
    CallFrame f = CallFrame.get();
    int status;
    try {
      status = (int) Shim.rt_pg_monitored_barrier.MH.invokeExact(f.ctx, live(), ms);
    } catch (Throwable e) {
      throw Native.rethrow(e);
    }
    if (status != Shim.RT_OK) {
      throw failure("monitored barrier", f.error());
    }
  }

  /** Shorthand: {@code barrier().await()}, closing the work. */
  public void barrierAndWait() {
    try (Work w = barrier()) {
      w.await();
    }
  }

  /** Attaches the heartbeat that names lost ranks in collective failures (see {@link Liveness}). */
  void liveness(Liveness l) {
    this.liveness = l;
  }

  /**
   * The exception for a failed collective {@code what} with the shim's {@code message}, lost ranks
   * diagnosed.
   */
  DistributedException failure(String what, String message) {
    Liveness l = liveness;
    List<Integer> lost = l == null ? List.of() : l.lostRanks();
    StringBuilder sb = new StringBuilder();
    sb.append("rank ").append(rank).append(": ").append(what).append(" failed");
    if (!lost.isEmpty()) {
      sb.append(": lost rank")
          .append(lost.size() > 1 ? "s " : " ")
          .append(
              lost.stream()
                  .map(String::valueOf)
                  .collect(java.util.stream.Collectors.joining(", ")));
      sb.append(" (no heartbeat")
          .append(lost.contains(0) ? "; rank 0 hosts the store" : "")
          .append(")");
    }
    sb.append(" — ").append(message);
    return new DistributedException(sb.toString(), lost, null);
  }

  private static MemorySegment handles(Arena a, List<Tensor> ts) {
    MemorySegment arr = a.allocate(ValueLayout.JAVA_LONG, Math.max(1, ts.size()));
    for (int i = 0; i < ts.size(); i++) {
      arr.setAtIndex(ValueLayout.JAVA_LONG, i, TensorAccess.handle(ts.get(i)));
    }
    return arr;
  }

  private MemorySegment live() {
    if (handle == null) {
      throw new IllegalStateException("process group already closed");
    }
    return handle;
  }

  /** Frees the group after its queued collectives ended. Idempotent. */
  @Override
  public void close() {
    if (handle != null) {
      try {
        Shim.rt_pg_free.MH.invokeExact(handle);
      } catch (Throwable t) {
        throw Native.rethrow(t);
      } finally {
        handle = null;
      }
    }
  }
}
