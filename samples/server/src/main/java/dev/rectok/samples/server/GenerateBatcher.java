package dev.rectok.samples.server;

import dev.rectok.api.GenerateOptions;
import dev.rectok.api.Generator;
import dev.rectok.api.Latents;
import dev.rectok.api.Progress;
import dev.rectok.api.Tokenizer;
import java.awt.image.BufferedImage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Gathers concurrent {@code /v1/generate} requests with the same settings into one sampler call
 * with per-sample seeds and one batched decode (issue 13; the contract is in {@link RecTokServer}'s
 * javadoc).
 *
 * <p>How a batch forms: the first request for a {@link Key} opens a batch and starts its runner on
 * the server's executor; later requests with that key join it. The runner waits until the batch is
 * full or {@code window} has passed, then asks {@link Admission} for a model slot (a batch is one
 * model call: the admission limits count batches), still taking joiners while it waits, and closes
 * the batch when it gets the slot or the batch fills. Rows run sorted by (label, seed), so the same
 * set of requests is the same call whatever order they arrived in.
 *
 * <p>Each request keeps its own deadline and client: its handler waits for its row only until its
 * deadline; a row whose client went away or whose deadline passed is dropped (its answer is not
 * made), and the call stops only when every row is gone. Errors reach every row of the batch.
 *
 * <p>Thread-safe: {@link #submit} is called from any handler thread; the open batches are guarded
 * by this object's monitor. The models, admission, metrics and executor are borrowed.
 */
final class GenerateBatcher {
  private static final System.Logger LOG = System.getLogger(GenerateBatcher.class.getName());

  /** The settings a batch shares: rows differ only in label and seed. */
  record Key(int steps, GenerateOptions.GuidanceKind guidance, double scale) {}

  /** One request's row. */
  static final class Row {
    final long label;
    final long seed;
    final RecTokServer.Request request;
    final CompletableFuture<BufferedImage> result = new CompletableFuture<>();
    volatile boolean abandoned; // set by the handler when its deadline passed while waiting
    boolean gone; // the runner's view: abandoned or the client went away (runner thread only)

    Row(long label, long seed, RecTokServer.Request request) {
      this.label = label;
      this.seed = seed;
      this.request = request;
    }
  }

  /** Rows gathered for one model call. */
  private static final class Batch {
    final Key key;
    final List<Row> rows = new ArrayList<>(); // guarded by the batcher
    final CountDownLatch full = new CountDownLatch(1);

    Batch(Key key) {
      this.key = key;
    }
  }

  private final Generator generator;
  private final Tokenizer tokenizer;
  private final Admission admission;
  private final Metrics metrics;
  private final Executor executor;
  private final int maxBatch;
  private final Duration window;
  private final Map<Key, Batch> open = new HashMap<>();

  GenerateBatcher(
      Generator generator,
      Tokenizer tokenizer,
      Admission admission,
      Metrics metrics,
      Executor executor,
      int maxBatch,
      Duration window) {
    this.generator = generator;
    this.tokenizer = tokenizer;
    this.admission = admission;
    this.metrics = metrics;
    this.executor = executor;
    this.maxBatch = maxBatch;
    this.window = window;
  }

  /**
   * Runs one request as a row of a batch and waits for its image.
   *
   * @throws CancellationException when the request's deadline passed or its client went away
   * @throws HttpError when the batch failed (overload, bad settings, a failed model call)
   * @throws InterruptedException when the server shuts down
   */
  BufferedImage submit(Key key, long label, long seed, RecTokServer.Request request)
      throws InterruptedException {
    Row row = new Row(label, seed, request);
    Batch started = null;
    synchronized (this) {
      Batch b = open.get(key);
      if (b == null) {
        b = new Batch(key);
        open.put(key, b);
        started = b;
      }
      b.rows.add(row);
      if (b.rows.size() >= maxBatch) {
        open.remove(key);
        b.full.countDown();
      }
    }
    if (started != null) {
      Batch b = started;
      try {
        executor.execute(() -> run(b));
      } catch (java.util.concurrent.RejectedExecutionException e) {
        fail(close(b), new HttpError(503, "server shutting down"));
      }
    }
    try {
      return row.result.get(Math.max(0, request.remainingNanos()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      row.abandoned = true; // the runner drops the row; the others go on
      throw new CancellationException();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof CancellationException) {
        throw new CancellationException();
      }
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      row.abandoned = true;
      throw e;
    }
  }

  /** Closes {@code b} to joiners and returns its rows. */
  private List<Row> close(Batch b) {
    synchronized (this) {
      open.remove(b.key, b);
      return List.copyOf(b.rows);
    }
  }

  private void run(Batch b) {
    List<Row> rows = null;
    boolean admitted = false;
    try {
      b.full.await(window.toNanos(), TimeUnit.NANOSECONDS);
      admission.acquire();
      admitted = true;
      rows = close(b);
      call(b.key, rows);
    } catch (HttpError e) {
      fail(rows != null ? rows : close(b), e);
    } catch (InterruptedException e) {
      fail(rows != null ? rows : close(b), new HttpError(503, "server shutting down"));
    } catch (RuntimeException | Error e) {
      List<Row> all = rows != null ? rows : close(b);
      LOG.log(System.Logger.Level.ERROR, "internal error in a batch of " + all.size(), e);
      fail(
          all,
          new HttpError(
              500,
              "internal error in a batch of "
                  + all.size()
                  + " generate requests; see the server log"));
    } finally {
      if (admitted) {
        admission.release();
      }
    }
  }

  private static void fail(List<Row> rows, RuntimeException e) {
    for (Row r : rows) {
      r.result.completeExceptionally(e);
    }
  }

  /** Marks rows whose handler gave up or whose client left; true when none is left. */
  private static boolean allGone(List<Row> rows) {
    List<Row> live = new ArrayList<>();
    for (Row r : rows) {
      r.gone |= r.abandoned;
      if (!r.gone) {
        live.add(r);
      }
    }
    java.net.InetSocketAddress[][] pairs = new java.net.InetSocketAddress[live.size()][];
    for (int i = 0; i < pairs.length; i++) {
      pairs[i] = live.get(i).request.addresses();
    }
    ClientWatch.State[] states = ClientWatch.states(pairs);
    boolean all = true;
    for (int i = 0; i < pairs.length; i++) {
      Row r = live.get(i);
      r.gone = r.request.cancelled(states[i]);
      all &= r.gone;
    }
    return all;
  }

  private GenerateOptions options(Key key, List<Row> rows) {
    return GenerateOptions.builder()
        .gridPoints(key.steps() + 1)
        .guidance(key.guidance(), key.scale())
        .cancelled(() -> allGone(rows))
        .build();
  }

  /** Runs the rows still wanted as one sampler call and one decode, and hands out the images. */
  private void call(Key key, List<Row> all) {
    List<Row> rows = new ArrayList<>(all);
    rows.sort(Comparator.<Row>comparingLong(r -> r.label).thenComparingLong(r -> r.seed));
    if (allGone(rows)) {
      for (Row r : rows) {
        r.result.completeExceptionally(new CancellationException());
      }
      return;
    }
    rows.removeIf(r -> r.gone);
    metrics.recordBatch(rows.size());
    try {
      deliver(rows, sample(key, rows));
    } catch (CancellationException e) {
      for (Row r : rows) {
        r.result.completeExceptionally(new CancellationException());
      }
    } catch (IllegalArgumentException e) {
      fail(rows, new HttpError(400, e.getMessage()));
    } catch (ArithmeticException e) {
      if (rows.size() == 1) {
        LOG.log(System.Logger.Level.ERROR, "generation failed", e);
        fail(rows, new HttpError(500, "generation failed: " + e.getMessage()));
        return;
      }
      // one row diverged: run each alone, so a row's fate does not depend on its batch-mates
      for (Row r : rows) {
        call(key, List.of(r));
      }
    }
  }

  private List<BufferedImage> sample(Key key, List<Row> rows) {
    long[] labels = new long[rows.size()];
    long[] seeds = new long[rows.size()];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = rows.get(i).label;
      seeds[i] = rows.get(i).seed;
    }
    Latents z = generator.sample(labels, seeds, options(key, rows), Progress.NONE);
    return tokenizer.decode(z);
  }

  private static void deliver(List<Row> rows, List<BufferedImage> images) {
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      if (r.gone || r.abandoned) {
        r.result.completeExceptionally(new CancellationException()); // dropped: nobody waits
      } else {
        r.result.complete(images.get(i));
      }
    }
  }
}
