package dev.rectok.train.loop;

import java.util.Iterator;

/**
 * Where a {@link TrainLoop} gets its batches: a deterministic, resumable sequence per epoch.
 * Implementations: {@link TensorBatches} (an in-memory dataset such as Fashion-MNIST) and {@link
 * LoaderBatches} (image folders and file lists through the threaded {@link
 * dev.rectok.train.data.DataLoader}).
 *
 * <p><b>Contract.</b> The batches of epoch {@code e} depend only on the source's seed and {@code
 * e}; a pass opened at a {@link Pass#position()} recorded earlier continues with exactly the
 * batches an uninterrupted pass would have produced next. <b>Threading:</b> one pass at a time,
 * from one thread.
 */
public interface BatchSource extends AutoCloseable {

  /** Full batches per epoch (the planned count, for the fractional epoch and the ETA). */
  long batchesPerEpoch();

  /** Samples per batch. */
  int batchSize();

  /**
   * Opens epoch {@code epoch}, at its start ({@code position == null}) or where a pass left off.
   */
  Pass open(int epoch, long[] position);

  /** One epoch's batches; the caller owns and closes each {@link Batch}. */
  interface Pass extends Iterator<Batch>, AutoCloseable {

    /** The position right after the last batch returned (opaque; store it in checkpoints). */
    long[] position();

    @Override
    void close();
  }

  @Override
  default void close() {}
}
