package dev.rectok.train.data;

import dev.rectok.api.Progress;
import dev.rectok.image.RgbImage;
import dev.rectok.torch.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One epoch of shuffled, augmented mini-batches from an {@link ImageDataset}
 * (docs/training.md#optimizer): ADM centre crop, a random horizontal flip with p = 0.5, values in
 * [-1, 1].
 *
 * <p><b>Order.</b> The epoch visits the samples in {@link #permutation(int, long, int)}: a
 * Fisher-Yates shuffle driven by {@link SplittableRandom} seeded with {@code mix64(mix64(seed) +
 * epoch)}, so it depends only on (dataset size, seed, epoch). Whether sample {@code i} is flipped
 * is {@link #flipped(long, int, int)}, a hash of (seed, epoch, i): it does not depend on the order
 * in which worker threads finish, on the worker count or on the batch size.
 *
 * <p><b>Corrupt files.</b> A file that cannot be read or decoded is skipped with an SLF4J warning
 * and counted ({@link #skipped()}, {@link #skippedFiles()}); the batch is filled with the next
 * samples of the permutation, so every batch is full except possibly the last one of the epoch
 * (dropped with {@code dropLast}).
 *
 * <p><b>Resuming.</b> Every batch carries {@link Batch#next()}, the {@link Position} right after
 * it; a loader built with {@link Builder#resumeFrom(Position)} continues with exactly the batches a
 * full pass would have produced next. {@link Builder#startBatch(int)} starts at sample {@code k *
 * batchSize} of the permutation, which is the same thing when no earlier sample of the epoch was
 * skipped.
 *
 * <p><b>Threads.</b> Decoding and preprocessing run on {@link Builder#workers(int)} daemon threads
 * named {@code rectok-data-N}, at most {@link Builder#prefetch(int)} batches ahead of the consumer.
 * Workers produce Java arrays only; the native tensors are made on the consumer's thread in {@link
 * #next()}. The iteration methods must be called from one thread at a time; {@link #close()} may be
 * called from any thread, is idempotent, and returns once the workers have stopped. Workers also
 * stop by themselves when the epoch is exhausted.
 *
 * <p><b>Ownership.</b> Each {@link Batch} and its two tensors belong to the caller (or the caller's
 * open {@link dev.rectok.torch.Scope}), who must close them; the loader keeps no reference to them.
 * Batches prepared ahead but not taken are plain arrays and vanish on close.
 */
public final class DataLoader implements Iterator<DataLoader.Batch>, AutoCloseable {
  private static final System.Logger LOG = System.getLogger(DataLoader.class.getName());
  private static final long FLIP_SALT = 0x6A09E667F3BCC909L;
  private static final long ORDER_SALT = 0xBB67AE8584CAA73BL;
  private static final long JOIN_MILLIS = 10_000;

  /**
   * Where an epoch continues: the next batch's index and the next position in the permutation.
   *
   * @param epoch the epoch
   * @param batch the index of the next batch in the epoch
   * @param offset the index into {@link DataLoader#permutation} of the next sample to read
   */
  public record Position(int epoch, int batch, int offset) {
    /** Checks the values. */
    public Position {
      if (epoch < 0 || batch < 0 || offset < 0) {
        throw new IllegalArgumentException(
            "negative position " + epoch + "/" + batch + "/" + offset);
      }
    }
  }

  /**
   * One mini-batch. Owned by the caller, who closes it (which closes both tensors).
   *
   * @param images float32 CPU (B, 3, S, S) in [-1, 1]
   * @param labels int64 CPU (B); {@link ImageDataset#NO_LABEL} where a sample has none
   * @param epoch the epoch
   * @param index the batch's index in the epoch
   * @param indices the dataset indices of the B samples
   * @param flips whether each sample was mirrored
   * @param next the position right after this batch, for {@link Builder#resumeFrom}
   */
  public record Batch(
      Tensor images,
      Tensor labels,
      int epoch,
      int index,
      int[] indices,
      boolean[] flips,
      Position next)
      implements AutoCloseable {
    /** The number of samples. */
    public int size() {
      return indices.length;
    }

    @Override
    public void close() {
      images.close();
      labels.close();
    }
  }

  private record Failure(Throwable error, boolean fatal) {}

  private record Pending(
      float[] pixels, long[] labels, int[] indices, boolean[] flips, int index, int nextOffset) {}

  private final ImageDataset dataset;
  private final int batchSize;
  private final long seed;
  private final int epoch;
  private final boolean dropLast;
  private final Progress progress;
  private final int[] order;
  private final int sampleFloats;

  private final Object lock = new Object();
  private final Map<Integer, Object> ready = new HashMap<>(); // guarded by lock
  private final Semaphore window;
  private final AtomicInteger nextClaim;
  private final List<Thread> workers = new ArrayList<>();
  private final AtomicLong skipped = new AtomicLong();
  private final LinkedHashSet<Path> skippedFiles = new LinkedHashSet<>(); // guarded by itself
  private volatile boolean closed;
  private boolean progressEnded;

  private int cursor;
  private int batchIndex;
  private boolean exhausted;
  private Pending pending;
  private Position position;

  private DataLoader(Builder b) {
    this.dataset = b.dataset;
    this.batchSize = b.batchSize;
    this.seed = b.seed;
    this.epoch = b.epoch;
    this.dropLast = b.dropLast;
    this.progress = b.progress;
    this.order = b.order != null ? b.order.clone() : permutation(dataset.size(), seed, epoch);
    int s = dataset.imageSize();
    this.sampleFloats = 3 * s * s;
    this.cursor = Math.min(b.offset, order.length);
    this.batchIndex = b.batch;
    this.nextClaim = new AtomicInteger(cursor);
    this.position = new Position(epoch, batchIndex, cursor);
    this.window = new Semaphore((int) Math.min(Integer.MAX_VALUE, (long) b.prefetch * batchSize));
    progress.start("epoch " + epoch, plannedBatches());
    if (batchIndex > 0) {
      progress.update(batchIndex, "resumed at batch " + batchIndex);
    }
    for (int i = 0; i < b.workers; i++) {
      workers.add(Thread.ofPlatform().daemon().name("rectok-data-" + i).start(this::work));
    }
  }

  /** A builder for one epoch over {@code dataset}. */
  public static Builder builder(ImageDataset dataset) {
    return new Builder(dataset);
  }

  // ------------------------------------------------------------------ the rules

  /** SplitMix64's finaliser (Stafford's variant 13), a bijective 64-bit mix. */
  static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  /**
   * The sample order of an epoch: {@code 0..n-1} shuffled by Fisher-Yates (from the last position
   * down, {@code j = nextInt(i + 1)}) with {@code new SplittableRandom(mix64(mix64(seed ^
   * ORDER_SALT) + epoch))}, {@code ORDER_SALT = 0xBB67AE8584CAA73BL}.
   */
  public static int[] permutation(int n, long seed, int epoch) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    SplittableRandom rnd = new SplittableRandom(mix64(mix64(seed ^ ORDER_SALT) + epoch));
    for (int i = n - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /**
   * Whether dataset sample {@code index} is mirrored in {@code epoch}: the sign bit of {@code
   * mix64(mix64(mix64(seed ^ FLIP_SALT) + epoch) + index)} with {@code FLIP_SALT =
   * 0x6A09E667F3BCC909L}, so p = 0.5.
   */
  public static boolean flipped(long seed, int epoch, int index) {
    return mix64(mix64(mix64(seed ^ FLIP_SALT) + epoch) + index) < 0;
  }

  // ------------------------------------------------------------------ workers

  private void work() {
    int s = dataset.imageSize();
    while (!closed) {
      try {
        window.acquire();
      } catch (InterruptedException e) {
        return;
      }
      int p = nextClaim.getAndIncrement();
      if (p >= order.length || closed) {
        window.release();
        return;
      }
      int idx = order[p];
      Object result;
      try {
        RgbImage crop = dataset.load(idx);
        if (crop.width() != s || crop.height() != s) {
          throw new IllegalStateException(
              "crop is " + crop.width() + "x" + crop.height() + ", expected " + s);
        }
        float[] a = new float[sampleFloats];
        ImageDataset.normalize(crop, flipped(seed, epoch, idx), a, 0);
        result = a;
      } catch (Exception e) { // IOException, or a decoder's RuntimeException on a broken file
        result = new Failure(e, false);
      } catch (Throwable t) { // OutOfMemoryError and the like: the consumer rethrows it
        result = new Failure(t, true);
      }
      synchronized (lock) {
        ready.put(p, result);
        lock.notifyAll();
      }
    }
  }

  private Object take(int p) {
    Object r;
    synchronized (lock) {
      while ((r = ready.remove(p)) == null) {
        if (closed) {
          throw new IllegalStateException("data loader closed");
        }
        try {
          lock.wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for images", e);
        }
      }
    }
    window.release();
    return r;
  }

  private Pending assemble() {
    float[] pixels = new float[batchSize * sampleFloats];
    long[] labels = new long[batchSize];
    int[] indices = new int[batchSize];
    boolean[] flips = new boolean[batchSize];
    int count = 0;
    while (count < batchSize && cursor < order.length) {
      int p = cursor;
      Object r = take(p);
      cursor++;
      int idx = order[p];
      if (r instanceof Failure f) {
        if (f.fatal()) {
          throw new IllegalStateException("data worker failed on " + dataset.path(idx), f.error());
        }
        skipped.incrementAndGet();
        synchronized (skippedFiles) {
          skippedFiles.add(dataset.path(idx));
        }
        LOG.log(
            System.Logger.Level.WARNING,
            "skipping unreadable image {0} (sample {1}): {2}",
            dataset.path(idx),
            idx,
            f.error().toString());
        continue;
      }
      System.arraycopy((float[]) r, 0, pixels, count * sampleFloats, sampleFloats);
      labels[count] = dataset.label(idx);
      indices[count] = idx;
      flips[count] = flipped(seed, epoch, idx);
      count++;
    }
    if (count == 0 || (count < batchSize && dropLast)) {
      return null;
    }
    if (count < batchSize) {
      pixels = Arrays.copyOf(pixels, count * sampleFloats);
      labels = Arrays.copyOf(labels, count);
      indices = Arrays.copyOf(indices, count);
      flips = Arrays.copyOf(flips, count);
    }
    return new Pending(pixels, labels, indices, flips, batchIndex++, cursor);
  }

  // ------------------------------------------------------------------ iteration

  /** Whether another batch follows; may block until the workers have decoded it. */
  @Override
  public boolean hasNext() {
    if (pending == null && !exhausted) {
      if (closed) {
        throw new IllegalStateException("data loader closed");
      }
      pending = assemble();
      if (pending == null) {
        exhausted = true;
        stopWorkers();
        endProgress();
      }
    }
    return pending != null;
  }

  /** The next batch, owned by the caller. */
  @Override
  public Batch next() {
    if (!hasNext()) {
      throw new NoSuchElementException("epoch " + epoch + " is exhausted");
    }
    Pending b = pending;
    pending = null;
    int s = dataset.imageSize();
    int n = b.indices().length;
    Tensor images = Tensor.of(b.pixels(), n, 3, s, s);
    Tensor labels;
    try {
      labels = Tensor.of(b.labels(), n);
    } catch (RuntimeException e) {
      images.close();
      throw e;
    }
    progress.update(
        b.index() + 1,
        "epoch " + epoch + ", batch " + (b.index() + 1) + ", skipped " + skipped.get());
    position = new Position(epoch, b.index() + 1, b.nextOffset());
    return new Batch(images, labels, epoch, b.index(), b.indices(), b.flips(), position);
  }

  /** The position after the last batch returned (the start position before the first). */
  public Position position() {
    return position;
  }

  /**
   * Batches in a full epoch, ignoring skipped files: {@code n / B}, rounded up unless {@code
   * dropLast}.
   */
  public long plannedBatches() {
    long n = order.length;
    return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
  }

  /** Unreadable samples skipped so far by this loader (each occurrence counted). */
  public long skipped() {
    return skipped.get();
  }

  /** The distinct unreadable files met so far, in the order met. */
  public List<Path> skippedFiles() {
    synchronized (skippedFiles) {
      return List.copyOf(skippedFiles);
    }
  }

  /** The epoch this loader iterates. */
  public int epoch() {
    return epoch;
  }

  /** The batch size. */
  public int batchSize() {
    return batchSize;
  }

  private void stopWorkers() {
    closed = true;
    for (Thread t : workers) {
      t.interrupt();
    }
    synchronized (lock) {
      lock.notifyAll();
    }
    boolean interrupted = false;
    for (Thread t : workers) {
      try {
        t.join(JOIN_MILLIS);
      } catch (InterruptedException e) {
        interrupted = true;
      }
      if (t.isAlive()) {
        LOG.log(
            System.Logger.Level.WARNING,
            "data worker {0} did not stop within {1} ms",
            t.getName(),
            JOIN_MILLIS);
      }
    }
    synchronized (lock) {
      ready.clear();
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private synchronized void endProgress() {
    if (!progressEnded) {
      progressEnded = true;
      progress.end();
    }
  }

  /** Stops the workers (waits for them) and drops prepared samples. Idempotent. */
  @Override
  public void close() {
    stopWorkers();
    pending = null;
    endProgress();
  }

  // ------------------------------------------------------------------ builder

  /** Options of a {@link DataLoader}; not thread-safe. */
  public static final class Builder {
    private final ImageDataset dataset;
    private int batchSize = 32;
    private long seed;
    private int epoch;
    private int workers = 2;
    private int prefetch = 2;
    private boolean dropLast;
    private int batch;
    private int offset;
    private boolean startFromBatch;
    private Progress progress = Progress.NONE;
    private int[] order; // issue 14: a rank's shard (DistributedSampler), else the permutation

    private Builder(ImageDataset dataset) {
      this.dataset = Objects.requireNonNull(dataset, "dataset");
    }

    /** Samples per batch (default 32). */
    public Builder batchSize(int v) {
      if (v < 1) {
        throw new IllegalArgumentException("batch size must be positive, got " + v);
      }
      batchSize = v;
      return this;
    }

    /** The shuffling and flipping seed (default 0). */
    public Builder seed(long v) {
      seed = v;
      return this;
    }

    /** The epoch (default 0); with the seed it fixes order and flips. */
    public Builder epoch(int v) {
      if (v < 0) {
        throw new IllegalArgumentException("epoch must be non-negative, got " + v);
      }
      epoch = v;
      return this;
    }

    /** Decoding threads (default 2). */
    public Builder workers(int v) {
      if (v < 1) {
        throw new IllegalArgumentException("need at least one worker, got " + v);
      }
      workers = v;
      return this;
    }

    /** Batches decoded ahead of the consumer at most (default 2). */
    public Builder prefetch(int v) {
      if (v < 1) {
        throw new IllegalArgumentException("prefetch depth must be positive, got " + v);
      }
      prefetch = v;
      return this;
    }

    /** Whether a final short batch is dropped (default false). */
    public Builder dropLast(boolean v) {
      dropLast = v;
      return this;
    }

    /**
     * Starts at batch {@code k}, i.e. at sample {@code k * batchSize} of the permutation (exact
     * when no earlier sample of the epoch is unreadable; otherwise use {@link #resumeFrom}).
     * Applied at {@link #build()}, with the batch size then set.
     */
    public Builder startBatch(int k) {
      if (k < 0) {
        throw new IllegalArgumentException("start batch must be non-negative, got " + k);
      }
      batch = k;
      startFromBatch = true;
      return this;
    }

    /** Continues exactly after a batch: its {@link Batch#next()}; sets the epoch too. */
    public Builder resumeFrom(Position p) {
      epoch = p.epoch();
      batch = p.batch();
      offset = p.offset();
      startFromBatch = false;
      return this;
    }

    /** Receives a start, one update per batch and an end (on the consumer's thread). */
    public Builder progress(Progress p) {
      progress = Objects.requireNonNull(p, "progress");
      return this;
    }

    /**
     * Visits exactly {@code indices} in this order instead of the epoch's permutation (issue 14: a
     * rank's {@code DistributedSampler} shard). Flips still follow {@link #flipped}.
     */
    public Builder order(int[] indices) {
      for (int i : indices) {
        if (i < 0 || i >= dataset.size()) {
          throw new IllegalArgumentException(
              "sample index " + i + " outside the dataset of " + dataset.size());
        }
      }
      this.order = indices.clone();
      return this;
    }

    /** Starts the workers. The caller must close the loader. */
    public DataLoader build() {
      if (startFromBatch) {
        offset = (int) Math.min(Integer.MAX_VALUE, (long) batch * batchSize);
      }
      return new DataLoader(this);
    }
  }
}
