package dev.rectok.train.loop;

import dev.rectok.train.data.DataLoader;
import dev.rectok.train.data.ImageDataset;

/**
 * Batches from image folders or file lists through the threaded {@link DataLoader} (ADM centre
 * crop, random flips, bounded prefetch, corrupt files skipped and counted). The position is the
 * loader's {@link DataLoader.Position} (batch, offset), so a resumed pass is exact even after
 * skipped files.
 *
 * <p><b>Ownership.</b> Borrows the dataset. Each pass owns a loader and its worker threads until
 * the pass is closed; each {@link Batch} belongs to the caller. One pass at a time.
 */
public final class LoaderBatches implements BatchSource {
  private final ImageDataset dataset;
  private final int batchSize;
  private final long seed;
  private final int workers;
  private final dev.rectok.torch.distributed.DistributedSampler
      sampler; // issue 14; null: the whole dataset

  /**
   * @param workers decoding threads (at least 1)
   */
  public LoaderBatches(ImageDataset dataset, int batchSize, long seed, int workers) {
    this(dataset, batchSize, seed, workers, null);
  }

  /**
   * Batches of this rank's shard (issue 14): the order of epoch {@code e} is {@code
   * sampler.indices(e)}; null gives the whole dataset in the loader's permutation.
   */
  public LoaderBatches(
      ImageDataset dataset,
      int batchSize,
      long seed,
      int workers,
      dev.rectok.torch.distributed.DistributedSampler sampler) {
    if (batchSize < 1 || batchSize > dataset.size()) {
      throw new IllegalArgumentException(
          "batch size must be in 1.." + dataset.size() + ", got " + batchSize);
    }
    if (workers < 1) {
      throw new IllegalArgumentException("workers must be >= 1, got " + workers);
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.seed = seed;
    this.workers = workers;
    this.sampler = sampler;
  }

  @Override
  public long batchesPerEpoch() {
    return (sampler == null ? dataset.size() : sampler.numSamples()) / batchSize;
  }

  @Override
  public int batchSize() {
    return batchSize;
  }

  @Override
  public Pass open(int epoch, long[] from) {
    DataLoader.Builder b =
        DataLoader.builder(dataset).batchSize(batchSize).seed(seed).workers(workers).dropLast(true);
    if (sampler != null) {
      b.order(sampler.indices(epoch));
    }
    if (from == null) {
      b.epoch(epoch);
    } else {
      b.resumeFrom(new DataLoader.Position(epoch, (int) from[0], (int) from[1]));
    }
    DataLoader loader = b.build();
    return new Pass() {
      long[] position = from == null ? new long[] {0, 0} : from.clone();

      @Override
      public boolean hasNext() {
        return loader.hasNext();
      }

      @Override
      public Batch next() {
        DataLoader.Batch d = loader.next();
        long[] idx = new long[d.size()];
        for (int i = 0; i < idx.length; i++) {
          idx[i] = d.indices()[i];
        }
        position = new long[] {d.next().batch(), d.next().offset()};
        return new Batch(d.images(), d.labels(), idx, epoch, d.index());
      }

      @Override
      public long[] position() {
        return position.clone();
      }

      @Override
      public void close() {
        loader.close();
      }
    };
  }
}
