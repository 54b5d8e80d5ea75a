package dev.rectok.models.stats;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.api.Progress;
import dev.rectok.data.ImageList;
import dev.rectok.image.AdmPreprocess;
import dev.rectok.image.RgbImage;
import dev.rectok.models.tokenizer.RecTok;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;

/**
 * Computes a tokenizer's {@link LatentStatistics} over an {@link ImageList} the way the reference's
 * {@code collect_tokenizer_stats} does (docs/tokenizer.md#latent-statistics), resumably.
 *
 * <p><b>Computation.</b> Each image is read and ADM centre-cropped to the tokenizer's image size
 * ({@link AdmPreprocess}, no flip). Batches of {@link Builder#batchSize} readable images, taken in
 * list order, go through {@link RecTok#encoderZ} in eval mode under {@link
 * GradMode#inferenceMode()} in float32. Per batch, the posterior parameters z (B, L, 2C) are
 * reduced with {@code z.sum([0,1])} and {@code (z**2).sum([0,1])} on the tokenizer's device and
 * added to float32 accumulators; only the first C channels, the posterior-mean half, are kept. At
 * the end {@code mean = Σx/n} and {@code std = sqrt(Σx²/n − mean²)} in float32 with {@code n} =
 * images × tokens per image.
 *
 * <p><b>Unreadable images</b> (missing, corrupt, unknown format) are skipped with a logged warning
 * and counted ({@link Result#skipped()}); the next readable image takes the slot, so the batches
 * depend only on the list and the file contents.
 *
 * <p><b>Resuming.</b> With a {@link Builder#checkpoint} file the collector writes its state
 * (position in the list, float32 sums, counts, the list's {@link ImageList#identity()}) every
 * {@link Builder#checkpointEvery} batches and when it stops, atomically (temp file, fsync, atomic
 * rename). A pass started with an existing checkpoint for the same list, batch size, channel count
 * and image size continues from it and produces the same statistics, bit for bit, as an
 * uninterrupted pass; a checkpoint for anything else is refused with an {@link IOException}. A pass
 * stops early, at a batch boundary, when the cancellation supplier returns true or after {@link
 * Builder#maxImages} images in this call; it returns an incomplete {@link Result}. The checkpoint
 * of a finished pass stays in place (resuming it returns the same result at once); delete it to
 * recompute.
 *
 * <p><b>Threading and ownership.</b> A collector is immutable and may be shared, but one pass uses
 * one checkpoint file: do not run two passes with the same checkpoint at once. {@link #collect}
 * runs the tokenizer on the calling thread; with {@link Builder#readers} &gt; 1 images are decoded
 * on a private thread pool that lives for the call. The tokenizer is borrowed and only read (it
 * must already be in eval mode and float32; its statistics buffers are not used). Progress and
 * cancellation callbacks run on the calling thread.
 */
public final class StatisticsCollector {
  private static final System.Logger LOG = System.getLogger(StatisticsCollector.class.getName());

  /** The default batch size. */
  public static final int DEFAULT_BATCH_SIZE = 32;

  /** The default checkpoint interval, in batches. */
  public static final int DEFAULT_CHECKPOINT_EVERY = 100;

  private final int batchSize;
  private final Path checkpoint;
  private final int checkpointEvery;
  private final Progress progress;
  private final BooleanSupplier cancelled;
  private final long maxImages;
  private final int readers;

  private StatisticsCollector(Builder b) {
    this.batchSize = b.batchSize;
    this.checkpoint = b.checkpoint;
    this.checkpointEvery = b.checkpointEvery;
    this.progress = b.progress;
    this.cancelled = b.cancelled;
    this.maxImages = b.maxImages;
    this.readers = b.readers;
  }

  /** A builder with the defaults: batch 32, no checkpoint, no limit, one reader thread. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The outcome of one {@link #collect} call.
   *
   * @param statistics the statistics when {@code complete}, else null
   * @param complete whether the whole list has been processed
   * @param position list entries done (read or skipped), over all resumed calls
   * @param images images that went through the tokenizer, over all resumed calls
   * @param skipped unreadable entries, over all resumed calls
   * @param resumed whether this call started from a checkpoint
   */
  public record Result(
      LatentStatistics statistics,
      boolean complete,
      int position,
      long images,
      long skipped,
      boolean resumed) {}

  /**
   * Runs (or resumes) the pass over {@code list}.
   *
   * @throws IOException when the checkpoint cannot be read, belongs to another pass or cannot be
   *     written, or when the finished pass saw no readable image
   * @throws IllegalStateException when a channel has no variance (std would be 0 or NaN)
   */
  public Result collect(RecTok tok, ImageList list) throws IOException {
    Objects.requireNonNull(tok, "tok");
    Objects.requireNonNull(list, "list");
    if (tok.isTraining()) {
      throw new IllegalArgumentException("the tokenizer must be in eval mode");
    }
    Tensor firstParam = tok.parameters().getFirst().data();
    if (firstParam.dtype() != DType.FLOAT32) {
      throw new IllegalArgumentException(
          "the reference computes the statistics in float32; the tokenizer is "
              + firstParam.dtype());
    }
    Device device = firstParam.device();
    int channels = tok.config().tokenChannels();
    int size = tok.config().imgSize();
    AdmPreprocess pre = new AdmPreprocess(size);

    boolean resumed = checkpoint != null && Files.exists(checkpoint);
    CollectorCheckpoint st =
        resumed
            ? CollectorCheckpoint.read(checkpoint, list.identity(), batchSize, channels, size)
            : new CollectorCheckpoint(list.identity(), batchSize, channels, size);
    if (resumed) {
      LOG.log(
          System.Logger.Level.INFO,
          "resuming latent statistics from {0} at {1}/{2} ({3} images, {4} skipped)",
          checkpoint,
          st.position,
          list.size(),
          st.images,
          st.skipped);
    }

    ExecutorService pool =
        readers > 1
            ? Executors.newFixedThreadPool(
                readers,
                r -> {
                  Thread t = new Thread(r, "rectok-stats-reader");
                  t.setDaemon(true);
                  return t;
                })
            : null;
    long thisCall = 0;
    int sinceCheckpoint = 0;
    progress.start("latent statistics", list.size());
    try (GradMode g = GradMode.inferenceMode()) {
      progress.update(st.position, status(st));
      while (st.position < list.size()) {
        if (cancelled.getAsBoolean() || thisCall >= maxImages) {
          break;
        }
        Batch b = readBatch(list, st.position, pre, pool);
        if (!b.images.isEmpty()) {
          accumulate(tok, b.images, device, channels, st);
        }
        st.position = b.next;
        st.images += b.images.size();
        st.skipped += b.skipped;
        thisCall += b.images.size();
        progress.update(st.position, status(st));
        if (checkpoint != null && ++sinceCheckpoint >= checkpointEvery) {
          st.write(checkpoint);
          sinceCheckpoint = 0;
        }
      }
    } finally {
      progress.end();
      if (pool != null) {
        pool.shutdownNow();
      }
    }
    if (checkpoint != null) {
      st.write(checkpoint);
    }
    boolean complete = st.position == list.size();
    if (!complete) {
      LOG.log(
          System.Logger.Level.INFO,
          "latent statistics stopped at {0}/{1}; resume from {2}",
          st.position,
          list.size(),
          checkpoint);
      return new Result(null, false, st.position, st.images, st.skipped, resumed);
    }
    if (st.skipped > 0) {
      LOG.log(
          System.Logger.Level.WARNING,
          "latent statistics: {0} of {1} images were unreadable and skipped",
          st.skipped,
          list.size());
    }
    return new Result(finish(st), true, st.position, st.images, st.skipped, resumed);
  }

  private static String status(CollectorCheckpoint st) {
    return st.images + " images, " + st.skipped + " skipped";
  }

  /**
   * {@code mean = Σx/n}, {@code std = sqrt(Σx²/n − mean²)}, all float32 like the reference's
   * tensors.
   */
  static LatentStatistics finish(CollectorCheckpoint st) throws IOException {
    if (st.images == 0) {
      throw new IOException("no readable image in the list (" + st.skipped + " skipped)");
    }
    float n = (float) st.count;
    float[] mean = new float[st.channels];
    float[] std = new float[st.channels];
    for (int c = 0; c < st.channels; c++) {
      float m = st.sum[c] / n;
      float var = st.sumSq[c] / n - m * m;
      mean[c] = m;
      std[c] = (float) Math.sqrt(var);
      if (!(std[c] > 0f) || !Float.isFinite(std[c]) || !Float.isFinite(m)) {
        throw new IllegalStateException(
            "channel "
                + c
                + " has mean "
                + m
                + " and variance "
                + var
                + " over "
                + st.count
                + " tokens: cannot normalize by it");
      }
    }
    return new LatentStatistics(mean, std, st.count, st.images);
  }

  private record Batch(List<RgbImage> images, int next, long skipped) {}

  /** The next {@code batchSize} readable crops from {@code start}, in list order. */
  private Batch readBatch(ImageList list, int start, AdmPreprocess pre, ExecutorService pool)
      throws IOException {
    List<RgbImage> out = new ArrayList<>(batchSize);
    int pos = start;
    long skipped = 0;
    while (out.size() < batchSize && pos < list.size()) {
      int k = Math.min(batchSize - out.size(), list.size() - pos);
      List<Future<RgbImage>> pending = new ArrayList<>(k);
      for (int i = 0; i < k; i++) {
        Path p = list.get(pos + i);
        if (pool != null) {
          pending.add(pool.submit(() -> pre.centerCrop(AdmPreprocess.read(p))));
        } else {
          RgbImage img = readOne(pre, p);
          if (img != null) {
            out.add(img);
          } else {
            skipped++;
          }
        }
      }
      for (int i = 0; i < pending.size(); i++) {
        RgbImage img = await(pending.get(i), list.get(pos + i));
        if (img != null) {
          out.add(img);
        } else {
          skipped++;
        }
      }
      pos += k;
    }
    return new Batch(out, pos, skipped);
  }

  private static RgbImage readOne(AdmPreprocess pre, Path p) {
    try {
      return pre.centerCrop(AdmPreprocess.read(p));
    } catch (IOException | RuntimeException e) {
      warnSkip(p, e);
      return null;
    }
  }

  private static RgbImage await(Future<RgbImage> f, Path p) throws IOException {
    try {
      return f.get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IOException || cause instanceof RuntimeException) {
        warnSkip(p, cause);
        return null;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw new IOException("reading " + p + " failed", cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while reading " + p);
    }
  }

  private static void warnSkip(Path p, Throwable e) {
    LOG.log(
        System.Logger.Level.WARNING,
        "skipping unreadable image {0}: {1}",
        p,
        e.getMessage() != null ? e.getMessage() : e.toString());
  }

  private static void accumulate(
      RecTok tok, List<RgbImage> images, Device device, int channels, CollectorCheckpoint st) {
    try (Scope scope = Scope.open()) {
      Tensor[] crops = new Tensor[images.size()];
      for (int i = 0; i < crops.length; i++) {
        crops[i] = AdmPreprocess.toTensor(images.get(i));
      }
      accumulate(tok, Tensor.stack(crops, 0).to(device), channels, st);
    }
  }

  /**
   * The statistics of in-memory images (N, 3, H, W) in [−1, 1] (an already preprocessed dataset
   * such as Fashion-MNIST), in batches of {@code batchSize}, with the same float32 sums as {@link
   * #collect}. Autograd off; borrows {@code tok} and {@code images}.
   */
  public static LatentStatistics ofImages(RecTok tok, Tensor images, int batchSize)
      throws IOException {
    if (images.dim() != 4 || images.size(1) != 3 || batchSize < 1) {
      throw new IllegalArgumentException(
          "need (N, 3, H, W) images and a positive batch size, got "
              + java.util.Arrays.toString(images.shape())
              + ", "
              + batchSize);
    }
    int channels = tok.config().tokenChannels();
    CollectorCheckpoint st =
        new CollectorCheckpoint("in-memory", batchSize, channels, tok.config().imgSize());
    try (GradMode g = GradMode.inferenceMode()) {
      for (long i = 0; i < images.size(0); i += batchSize) {
        try (Scope scope = Scope.open()) {
          accumulate(
              tok, images.narrow(0, i, Math.min(batchSize, images.size(0) - i)), channels, st);
        }
      }
    }
    st.images = images.size(0);
    return finish(st);
  }

  private static void accumulate(RecTok tok, Tensor x, int channels, CollectorCheckpoint st) {
    float[] s;
    float[] q;
    long tokens;
    long n = x.size(0);
    try (Scope scope = Scope.open()) {
      Tensor z = tok.encoderZ(x); // the posterior parameters, (B, L, 2C) (C with disable_kl)
      long[] dims = {0, 1};
      s = z.sum(dims, false).narrow(0, 0, channels).to(Device.CPU).toFloatArray();
      q = z.pow(2).sum(dims, false).narrow(0, 0, channels).to(Device.CPU).toFloatArray();
      tokens = z.size(1);
    }
    for (int c = 0; c < channels; c++) {
      st.sum[c] += s[c];
      st.sumSq[c] += q[c];
    }
    st.count += n * tokens;
  }

  /** Options of a {@link StatisticsCollector}. Not thread-safe; build on one thread. */
  public static final class Builder {
    private int batchSize = DEFAULT_BATCH_SIZE;
    private Path checkpoint;
    private int checkpointEvery = DEFAULT_CHECKPOINT_EVERY;
    private Progress progress = Progress.NONE;
    private BooleanSupplier cancelled = () -> false;
    private long maxImages = Long.MAX_VALUE;
    private int readers = 1;

    private Builder() {}

    /**
     * Images per tokenizer batch (default 32; the reference uses 256). Resuming needs the same
     * value.
     */
    public Builder batchSize(int batchSize) {
      if (batchSize < 1) {
        throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
      }
      this.batchSize = batchSize;
      return this;
    }

    /** The checkpoint file to resume from (when it exists) and to write; null: no checkpoint. */
    public Builder checkpoint(Path checkpoint) {
      this.checkpoint = checkpoint;
      return this;
    }

    /**
     * Write the checkpoint every {@code batches} batches (default 100), and always when stopping.
     */
    public Builder checkpointEvery(int batches) {
      if (batches < 1) {
        throw new IllegalArgumentException("checkpoint interval must be positive, got " + batches);
      }
      this.checkpointEvery = batches;
      return this;
    }

    /** Receives list entries done out of the list size. */
    public Builder progress(Progress progress) {
      this.progress = Objects.requireNonNull(progress, "progress");
      return this;
    }

    /** Polled before each batch; true stops the pass at that batch boundary. */
    public Builder cancelWhen(BooleanSupplier cancelled) {
      this.cancelled = Objects.requireNonNull(cancelled, "cancelled");
      return this;
    }

    /**
     * Stop at the first batch boundary at which this call has fed at least {@code images} images to
     * the tokenizer (batches are never cut, so resuming stays bit-exact).
     */
    public Builder maxImages(long images) {
      if (images < 0) {
        throw new IllegalArgumentException("max images must not be negative, got " + images);
      }
      this.maxImages = images;
      return this;
    }

    /** Threads decoding images (default 1: the calling thread). */
    public Builder readers(int readers) {
      if (readers < 1) {
        throw new IllegalArgumentException("readers must be positive, got " + readers);
      }
      this.readers = readers;
      return this;
    }

    public StatisticsCollector build() {
      return new StatisticsCollector(this);
    }
  }
}
