package dev.rectok.torch.distributed;

import dev.rectok.api.DType;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.Module;
import dev.rectok.torch.nn.Parameter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * PyTorch DDP's gradient synchronisation for a list of parameters, done after the backward (no
 * backward hooks): gradients are averaged over the ranks in buckets assigned like {@code
 * compute_bucket_assignment_by_size} with DDP's defaults — parameters in reverse registration
 * order, one bucket series per dtype, the first bucket closed at 1 MiB and the others at 25 MiB —
 * each bucket flattened into a persistent buffer, divided by the world size (as DDP's default hook
 * does) and all-reduced asynchronously, all buckets in flight at once. A parameter without a
 * gradient on every rank keeps none (so the optimizer skips it as it would in one process); one
 * with a gradient on some ranks gets zeros from the others.
 *
 * <p>{@link #broadcastFromRankZero} copies rank 0's parameters and buffers to every rank, as DDP
 * does at construction.
 *
 * <p>In a world of one ({@link DistributedContext#local()}) both are no-ops, so a trainer can
 * always call them.
 *
 * <p><b>Ownership.</b> Borrows the parameters and the context; owns its bucket buffers, freed by
 * {@link #close}. <b>Threading.</b> One training thread.
 */
public final class DistributedDataParallel implements AutoCloseable {
  /** DDP's {@code bucket_cap_mb} default, 25 MiB. */
  public static final long BUCKET_BYTES = 25L << 20;

  /** DDP's first-bucket cap ({@code dist._DEFAULT_FIRST_BUCKET_BYTES}), 1 MiB. */
  public static final long FIRST_BUCKET_BYTES = 1L << 20;

  private final DistributedContext context;
  private final List<Parameter> params;
  private final List<int[]> buckets;
  private final List<Tensor> buffers = new ArrayList<>();

  /** Buckets {@code params} (in registration order) with DDP's default caps. */
  public DistributedDataParallel(DistributedContext context, List<Parameter> params) {
    this(context, params, FIRST_BUCKET_BYTES, BUCKET_BYTES);
  }

  /** Buckets {@code params} with the given caps (bytes). */
  public DistributedDataParallel(
      DistributedContext context, List<Parameter> params, long firstBucketBytes, long bucketBytes) {
    this.context = Objects.requireNonNull(context, "context");
    this.params = List.copyOf(params);
    long[] bytes = new long[this.params.size()];
    DType[] dtypes = new DType[this.params.size()];
    for (int i = 0; i < bytes.length; i++) {
      Tensor d = this.params.get(i).data();
      dtypes[i] = d.dtype();
      bytes[i] = d.numel() * d.dtype().byteSize();
    }
    this.buckets = assignBuckets(bytes, dtypes, firstBucketBytes, bucketBytes);
  }

  /**
   * The bucket assignment of tensors of sizes {@code bytes} (registration order): indices per
   * bucket, each bucket listing parameters in reverse registration order, buckets in the order
   * their all-reduce is issued. Public for tests and benchmarks.
   */
  public static List<int[]> assignBuckets(
      long[] bytes, DType[] dtypes, long firstBucketBytes, long bucketBytes) {
    record Open(List<Integer> members, long size, boolean first) {}
    Map<DType, Open> open = new LinkedHashMap<>();
    List<List<Integer>> done = new ArrayList<>();
    for (int i = bytes.length - 1; i >= 0; i--) {
      Open o = open.getOrDefault(dtypes[i], new Open(new ArrayList<>(), 0, true));
      o.members().add(i);
      long size = o.size() + bytes[i];
      long cap = o.first() ? firstBucketBytes : bucketBytes;
      if (size >= cap) {
        done.add(o.members());
        open.put(dtypes[i], new Open(new ArrayList<>(), 0, false));
      } else {
        open.put(dtypes[i], new Open(o.members(), size, o.first()));
      }
    }
    open.values().stream().filter(o -> !o.members().isEmpty()).forEach(o -> done.add(o.members()));
    // issue order: by the position of each bucket's first member in the reversed list
    done.sort((a, b) -> Integer.compare(b.get(0), a.get(0)));
    return done.stream().map(l -> l.stream().mapToInt(Integer::intValue).toArray()).toList();
  }

  /** The buckets (parameter indices in registration order), in issue order. */
  public List<int[]> buckets() {
    return buckets;
  }

  /** Copies rank 0's values of {@code modules}' parameters and buffers into every rank's. */
  public static void broadcastFromRankZero(
      DistributedContext context, List<? extends Module> modules) {
    if (!context.isDistributed()) {
      return;
    }
    List<Tensor> tensors = new ArrayList<>();
    for (Module m : modules) {
      m.parameters().forEach(p -> tensors.add(p.data()));
      tensors.addAll(m.namedBuffers().values());
    }
    broadcastTensors(context, tensors);
  }

  /**
   * Copies rank 0's values of {@code tensors} (borrowed) into every rank's, per dtype in one
   * buffer.
   */
  public static void broadcastTensors(DistributedContext context, List<Tensor> tensors) {
    if (!context.isDistributed() || tensors.isEmpty()) {
      return;
    }
    Map<DType, List<Tensor>> byType = new LinkedHashMap<>();
    tensors.forEach(t -> byType.computeIfAbsent(t.dtype(), k -> new ArrayList<>()).add(t));
    try (Scope s = Scope.open();
        GradMode g = GradMode.noGrad()) {
      for (List<Tensor> group : byType.values()) {
        Tensor flat =
            Tensor.cat(group.stream().map(t -> t.detach().reshape(-1)).toArray(Tensor[]::new), 0)
                .contiguous();
        try (Work w = context.group().broadcast(flat, 0)) {
          w.await();
        }
        long off = 0;
        for (Tensor t : group) {
          long n = t.numel();
          t.copy_(flat.narrow(0, off, n).view(t.shape()));
          off += n;
        }
      }
    }
  }

  /**
   * Averages the parameters' gradients over the ranks (see the class comment). Call it after the
   * backward and before clipping, on every rank, every step.
   *
   * @throws DistributedException if a collective fails (a lost rank, a timeout)
   */
  public void averageGradients() {
    if (!context.isDistributed()) {
      return;
    }
    int world = context.size();
    try (Scope s = Scope.open();
        GradMode g = GradMode.noGrad()) {
      Tensor[] grads = new Tensor[params.size()];
      float[] has = new float[params.size()];
      for (int i = 0; i < grads.length; i++) {
        grads[i] = params.get(i).grad();
        has[i] = grads[i] == null ? 0f : 1f;
      }
      // which parameters have a gradient on some rank: one tiny collective, issued before the
      // buckets and awaited with them, so it adds no round trip of its own
      Tensor present = Tensor.of(has, has.length);
      if (buffers.isEmpty()) {
        for (int[] b : buckets) {
          long n = 0;
          for (int i : b) {
            n += params.get(i).numel();
          }
          Tensor first = params.get(b[0]).data();
          buffers.add(Tensor.zeros(new long[] {n}, first.dtype(), first.device()).escape());
        }
      }
      List<Work> works = new ArrayList<>();
      float[] anywhere;
      try {
        works.add(context.group().allreduce(present, ReduceOp.MAX));
        for (int k = 0; k < buckets.size(); k++) {
          Tensor flat = buffers.get(k);
          long off = 0;
          for (int i : buckets.get(k)) {
            long n = params.get(i).numel();
            Tensor slot = flat.narrow(0, off, n);
            if (grads[i] != null) {
              slot.copy_(grads[i].reshape(-1));
            } else {
              slot.zero_();
            }
            off += n;
          }
          flat.mul_(1.0 / world);
          works.add(context.group().allreduce(flat, ReduceOp.SUM));
        }
        for (Work w : works) {
          w.await();
        }
        anywhere = present.toFloatArray();
      } finally {
        works.forEach(Work::close);
      }
      for (int k = 0; k < buckets.size(); k++) {
        Tensor flat = buffers.get(k);
        long off = 0;
        for (int i : buckets.get(k)) {
          Parameter p = params.get(i);
          long n = p.numel();
          if (anywhere[i] != 0f) {
            Tensor avg = flat.narrow(0, off, n).view(p.shape());
            if (grads[i] != null) {
              grads[i].copy_(avg);
            } else {
              p.data().setGrad(avg.clone());
            }
          }
          off += n;
        }
      }
    }
  }

  @Override
  public void close() {
    buffers.forEach(Tensor::close);
    buffers.clear();
  }
}
