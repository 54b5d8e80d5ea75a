package dev.rectok.train.loop;

import dev.rectok.api.Device;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.train.distributed.DataParallel;
import java.util.NoSuchElementException;

/**
 * Batches from an in-memory dataset in the order of one LibTorch generator: each epoch draws {@code
 * randperm(N)} from it and, with flips on, each batch then draws one uniform per sample of the
 * global batch (mirrored where it is below 0.5). This is the law the SDK's small classifiers (the
 * demo teacher, the MLP check) were trained and measured with, so their results do not depend on
 * which loop drives them. On one process the last incomplete batch is kept; with W data-parallel
 * processes a global batch is W·{@code batchSize} rows, this rank takes rows r, r + W, … ({@link
 * DataParallel#rows}) and the last incomplete global batch is dropped so every rank steps alike.
 *
 * <p>The generator is consumed in sequence; a pass opened anywhere else (a resume) replays the
 * draws from the seed up to that point, so the batches depend only on the seed, the epoch and the
 * position, as {@link BatchSource} requires.
 *
 * <p><b>Ownership.</b> Borrows {@code images} (N, ...) and {@code labels} int64 (N) (the caller
 * keeps them alive and closes them after the source); owns its generator and frees it in {@link
 * #close}. Each returned {@link Batch} is new and owned by the caller. One pass at a time, from one
 * thread.
 */
public final class RandpermBatches implements BatchSource {
  private final Tensor images;
  private final Tensor labels;
  private final int batchSize;
  private final long seed;
  private final boolean flips;
  private final long n;
  private final long global;
  private final long perEpoch;
  private TorchGenerator gen;
  private Tensor order;
  private int drawnEpoch = -1;
  private long drawnBatches;

  /**
   * @param images samples (N, ...); (N, C, H, W) when {@code flips}
   * @param labels int64 labels (N)
   * @param batchSize samples per batch on this process
   * @param seed seeds the generator
   * @param flips whether to mirror each sample with probability 0.5
   */
  public RandpermBatches(Tensor images, Tensor labels, int batchSize, long seed, boolean flips) {
    if (images.dim() < 1 || labels.dim() != 1 || labels.size(0) != images.size(0)) {
      throw new IllegalArgumentException(
          "labels must be (N) with N = "
              + (images.dim() < 1 ? 0 : images.size(0))
              + ", got "
              + java.util.Arrays.toString(labels.shape()));
    }
    if (flips && images.dim() != 4) {
      throw new IllegalArgumentException(
          "flips need images (N, C, H, W), got " + java.util.Arrays.toString(images.shape()));
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
    }
    this.images = images;
    this.labels = labels;
    this.batchSize = batchSize;
    this.seed = seed;
    this.flips = flips;
    this.n = images.size(0);
    int world = DataParallel.worldSize();
    this.global = (long) batchSize * world;
    this.perEpoch = world == 1 ? (n + batchSize - 1) / batchSize : n / global;
    if (perEpoch < 1) {
      throw new IllegalArgumentException(
          "the global batch " + global + " exceeds the " + n + " training samples");
    }
    this.gen = TorchGenerator.cpu(seed);
  }

  @Override
  public long batchesPerEpoch() {
    return perEpoch;
  }

  @Override
  public int batchSize() {
    return batchSize;
  }

  @Override
  public Pass open(int epoch, long[] position) {
    long start = position == null ? 0 : position[0];
    if (epoch < 0 || start < 0 || start > perEpoch) {
      throw new IllegalArgumentException(
          "epoch " + epoch + ", position " + start + " outside epochs of " + perEpoch + " batches");
    }
    boolean inSequence =
        epoch == drawnEpoch + 1
            && start == 0
            && (!flips || drawnEpoch < 0 || drawnBatches == perEpoch);
    if (!inSequence) {
      gen.close();
      gen = TorchGenerator.cpu(seed);
      drawnEpoch = -1;
    }
    while (drawnEpoch < epoch) {
      drawPermutation();
      long skip = drawnEpoch < epoch ? perEpoch : start;
      for (long b = 0; b < skip; b++) {
        drawFlips(b).close();
      }
    }
    return new Pass() {
      long next = start;

      @Override
      public boolean hasNext() {
        return next < perEpoch;
      }

      @Override
      public Batch next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        long b = next++;
        try (Scope s = Scope.open()) {
          long lenGlobal = Math.min(global, n - b * global);
          Tensor idx = DataParallel.rows(order.narrow(0, b * global, lenGlobal));
          Tensor x = images.indexSelect(0, idx);
          if (flips) {
            Tensor mask = drawFlips(b);
            x = Tensor.where(mask, x.flip(3), x);
          }
          return new Batch(
              s.keep(x),
              s.keep(labels.indexSelect(0, idx)),
              idx.toLongArray(),
              epoch,
              Math.toIntExact(b));
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

  private void drawPermutation() {
    if (order != null) {
      order.close();
    }
    order = Tensor.randperm(n, gen, Device.CPU);
    drawnEpoch++;
    drawnBatches = 0;
  }

  /** Draws batch {@code b}'s flips: this rank's mask (len, 1, 1, 1), or nothing without flips. */
  private Tensor drawFlips(long b) {
    drawnBatches = b + 1;
    if (!flips) {
      return Tensor.zeros(0);
    }
    long lenGlobal = Math.min(global, n - b * global);
    try (Scope s = Scope.open()) {
      Tensor mine = DataParallel.rows(Tensor.rand(gen, lenGlobal));
      return s.keep(mine.lt(0.5).view(mine.size(0), 1, 1, 1));
    }
  }

  @Override
  public void close() {
    if (order != null) {
      order.close();
      order = null;
    }
    gen.close();
  }
}
