package dev.rectok.train.loop;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.train.data.DataLoader;
import java.util.NoSuchElementException;

/**
 * Batches from an in-memory dataset (N, 1 or 3, H, W) in [−1, 1] with int64 labels (N): the order
 * of epoch {@code e} is {@link DataLoader#permutation}{@code (N, seed, e)} and sample {@code i} is
 * mirrored when {@link DataLoader#flipped}{@code (seed, e, i)} — the same laws as the file-based
 * loader, so a run does not change when its data moves from memory to files. Single-channel images
 * are expanded to RGB. The last incomplete batch is dropped.
 *
 * <p><b>Ownership.</b> Borrows {@code images} and {@code labels} (the caller keeps them alive and
 * closes them after the source). Each returned {@link Batch} is new and owned by the caller. One
 * pass at a time, from one thread.
 */
public final class TensorBatches implements BatchSource {
  private final Tensor images;
  private final Tensor labels;
  private final int batchSize;
  private final long seed;
  private final boolean flips;
  private final int n;
  private final dev.rectok.torch.distributed.DistributedSampler
      sampler; // issue 14; null: the whole dataset

  /**
   * @param flips whether to apply the random horizontal flip (p = 0.5)
   */
  public TensorBatches(Tensor images, Tensor labels, int batchSize, long seed, boolean flips) {
    this(images, labels, batchSize, seed, flips, null);
  }

  /**
   * Batches of this rank's shard (issue 14): the order of epoch {@code e} is {@code
   * sampler.indices(e)}; null gives the whole dataset in {@link DataLoader#permutation}.
   */
  public TensorBatches(
      Tensor images,
      Tensor labels,
      int batchSize,
      long seed,
      boolean flips,
      dev.rectok.torch.distributed.DistributedSampler sampler) {
    if (images.dim() != 4 || (images.size(1) != 1 && images.size(1) != 3)) {
      throw new IllegalArgumentException(
          "images must be (N, 1|3, H, W), got " + java.util.Arrays.toString(images.shape()));
    }
    if (labels.dim() != 1 || labels.size(0) != images.size(0)) {
      throw new IllegalArgumentException(
          "labels must be (N) with N = "
              + images.size(0)
              + ", got "
              + java.util.Arrays.toString(labels.shape()));
    }
    if (batchSize < 1 || batchSize > images.size(0)) {
      throw new IllegalArgumentException(
          "batch size must be in 1.." + images.size(0) + ", got " + batchSize);
    }
    this.images = images;
    this.labels = labels;
    this.batchSize = batchSize;
    this.seed = seed;
    this.flips = flips;
    this.n = Math.toIntExact(images.size(0));
    this.sampler = sampler;
    if (sampler != null && sampler.size() != n) {
      throw new IllegalArgumentException(
          "the sampler covers " + sampler.size() + " samples, the data has " + n);
    }
  }

  @Override
  public long batchesPerEpoch() {
    return (sampler == null ? n : sampler.numSamples()) / batchSize;
  }

  @Override
  public int batchSize() {
    return batchSize;
  }

  @Override
  public Pass open(int epoch, long[] position) {
    int[] order = sampler == null ? DataLoader.permutation(n, seed, epoch) : sampler.indices(epoch);
    long start = position == null ? 0 : position[0];
    if (start < 0 || start > batchesPerEpoch()) {
      throw new IllegalArgumentException(
          "position " + start + " outside epoch of " + batchesPerEpoch() + " batches");
    }
    return new Pass() {
      long next = start;

      @Override
      public boolean hasNext() {
        return next < batchesPerEpoch();
      }

      @Override
      public Batch next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        int k = (int) next++;
        long[] idx = new long[batchSize];
        boolean[] mirror = new boolean[batchSize];
        for (int j = 0; j < batchSize; j++) {
          idx[j] = order[k * batchSize + j];
          mirror[j] = flips && DataLoader.flipped(seed, epoch, (int) idx[j]);
        }
        try (Scope s = Scope.open()) {
          Tensor index = Tensor.of(idx, batchSize);
          Tensor x = images.indexSelect(0, index);
          if (flips) {
            byte[] m = new byte[batchSize];
            for (int j = 0; j < batchSize; j++) {
              m[j] = (byte) (mirror[j] ? 1 : 0);
            }
            Tensor mask = Tensor.of(m, dev.rectok.api.DType.BOOL, batchSize, 1, 1, 1);
            x = Tensor.where(mask, x.flip(3), x);
          }
          if (x.size(1) == 1) {
            x = x.expand(-1, 3, -1, -1).contiguous();
          }
          return new Batch(s.keep(x), s.keep(labels.indexSelect(0, index)), idx, epoch, k);
        }
      }

      @Override
      public long[] position() {
        return new long[] {next};
      }

      @Override
      public void close() {}
    };
  }
}
