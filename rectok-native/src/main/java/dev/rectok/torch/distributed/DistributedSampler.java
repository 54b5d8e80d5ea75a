package dev.rectok.torch.distributed;

import dev.rectok.api.Device;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;

/**
 * PyTorch's {@code torch.utils.data.DistributedSampler}, law for law: with shuffling, epoch {@code
 * e}'s order is {@code torch.randperm(n, generator=Generator().manual_seed(seed + e))} (ATen's own
 * CPU generator and randperm, so the order is PyTorch's); without, {@code 0..n-1}. Without {@code
 * dropLast} the order is padded by repeating its head to {@code numSamples × replicas} ({@code
 * numSamples = ceil(n / replicas)}); with it, truncated to {@code numSamples = ceil((n − replicas)
 * / replicas)} per rank when {@code n} is not divisible. Rank {@code r} takes positions {@code r, r
 * + replicas, r + 2·replicas, …}.
 *
 * <p>So the union of the ranks' {@code k}-th batches of size {@code b} is the {@code k}-th batch of
 * size {@code b × replicas} of the one-rank sampler (when nothing was padded): a run with a global
 * batch is comparable across world sizes.
 *
 * <p>Immutable and thread-safe.
 *
 * @param size dataset size
 * @param replicas number of ranks
 * @param rank this rank
 * @param shuffle whether to shuffle
 * @param seed the shuffle's seed (the same on every rank)
 * @param dropLast whether to drop the tail instead of padding
 */
public record DistributedSampler(
    int size, int replicas, int rank, boolean shuffle, long seed, boolean dropLast) {

  /** Checks the values. */
  public DistributedSampler {
    if (size < 0) {
      throw new IllegalArgumentException("dataset size must be >= 0, got " + size);
    }
    if (replicas < 1 || rank < 0 || rank >= replicas) {
      throw new IllegalArgumentException("rank must be in 0.." + (replicas - 1) + ", got " + rank);
    }
  }

  /** Samples this rank visits per epoch. */
  public int numSamples() {
    if (dropLast && size % replicas != 0) {
      return (int) Math.ceil((size - replicas) / (double) replicas);
    }
    return (int) Math.ceil(size / (double) replicas);
  }

  /** {@code numSamples × replicas}. */
  public int totalSize() {
    return numSamples() * replicas;
  }

  /** The global order of {@code epoch} before sharding ({@code size} indices). */
  public int[] order(int epoch) {
    int[] p = new int[size];
    if (!shuffle || size == 0) {
      for (int i = 0; i < size; i++) {
        p[i] = i;
      }
      return p;
    }
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(seed + epoch)) {
      long[] v = Tensor.randperm(size, g, Device.CPU).toLongArray();
      for (int i = 0; i < size; i++) {
        p[i] = (int) v[i];
      }
    }
    return p;
  }

  /** This rank's indices for {@code epoch}, in visiting order ({@link #numSamples} of them). */
  public int[] indices(int epoch) {
    int[] order = order(epoch);
    int total = totalSize();
    int[] padded = new int[total];
    if (order.length == 0 && total > 0) {
      throw new IllegalStateException("cannot pad an empty dataset");
    }
    for (int i = 0; i < total; i++) {
      padded[i] = order[i % order.length]; // the head repeated as often as needed, PyTorch's rule
    }
    int[] mine = new int[numSamples()];
    for (int i = 0, p = rank; p < total; i++, p += replicas) {
      mine[i] = padded[p];
    }
    return mine;
  }
}
