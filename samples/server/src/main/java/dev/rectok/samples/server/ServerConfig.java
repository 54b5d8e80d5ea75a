package dev.rectok.samples.server;

import java.time.Duration;

/**
 * The service's limits. An immutable value; thread-safe.
 *
 * @param host address to bind (127.0.0.1 by default: expose it through a proxy, not directly)
 * @param port port to bind, 0 for any free one
 * @param maxConcurrent model calls running at once; size it so {@code maxConcurrent × intra-op
 *     threads ≈ cores} (see the README's thread sizing)
 * @param maxQueue requests allowed to wait for a slot; more are answered 503 at once
 * @param queueTimeout how long a request may wait for a slot before a 503
 * @param requestTimeout how long a model call may run before it is cancelled (503 with the reason)
 * @param maxBodyBytes the largest request body; larger ones get 413 before they are read
 * @param maxPixels the largest image (width × height); larger ones get 413 from the header alone
 * @param maxSteps the most sampling steps a generate request may ask for
 * @param maxBatch the most {@code /v1/generate} requests run as one model call (1 to {@link
 *     #MAX_BATCH_LIMIT}); 1, the default, runs each request alone and answers it byte for byte as a
 *     one-label {@code Generator.sample(labels, seed, ...)} call; above 1 turns on micro-batching
 *     (see {@link RecTokServer}'s batching contract), where {@link #RECOMMENDED_MAX_BATCH} (32) is
 *     the measured best
 * @param batchWindow how long the first request of a batch waits for others to join before the
 *     batch asks for a model slot (0 to 10 s; it keeps gathering while it waits for the slot)
 */
public record ServerConfig(
    String host,
    int port,
    int maxConcurrent,
    int maxQueue,
    Duration queueTimeout,
    Duration requestTimeout,
    long maxBodyBytes,
    long maxPixels,
    int maxSteps,
    // --- issue 13: micro-batching ---
    int maxBatch,
    Duration batchWindow) {

  // --- issue 13: micro-batching ---
  /** The largest {@link #maxBatch} accepted. */
  public static final int MAX_BATCH_LIMIT = 256;

  /** The largest {@link #batchWindow} accepted. */
  public static final Duration MAX_BATCH_WINDOW = Duration.ofSeconds(10);

  /**
   * The {@link #maxBatch} to use when batching: the size that served the most images per second on
   * the shipped Fashion-MNIST demo models ({@link LoadBench}: 64 clients, 8 Euler steps, 2
   * concurrent model calls of one thread each, 2 cores, load 3.3–4.0, README "Micro-batching").
   * Mean images/s over two alternated rounds: 11.7 at 1 (unbatched), 15.8 at 2, 27.1 at 4, 45.8 at
   * 8, 68.4 at 16, 85.8 at 32 and 84.6 at 64 (whose batches filled only to 24: 64 clients over 2
   * model slots). A larger cap only helps when more than {@code 32 × maxConcurrent} requests wait,
   * and costs memory on large models.
   */
  public static final int RECOMMENDED_MAX_BATCH = 32;

  /**
   * The default {@link #batchWindow}, 5 ms. Under load a batch keeps filling while it waits for a
   * model slot, so the window matters only on an idle server, where it is the delay added to a lone
   * request: 5 ms is about 2% of one 8-step call on the demo models.
   */
  public static final Duration DEFAULT_BATCH_WINDOW = Duration.ofMillis(5);

  /**
   * The limits without batching ({@code maxBatch} 1): each generate request is one model call.
   *
   * @param host address to bind
   * @param port port to bind, 0 for any free one
   * @param maxConcurrent model calls running at once
   * @param maxQueue requests allowed to wait for a slot
   * @param queueTimeout how long a request may wait for a slot
   * @param requestTimeout how long a model call may run
   * @param maxBodyBytes the largest request body
   * @param maxPixels the largest image
   * @param maxSteps the most sampling steps
   */
  public ServerConfig(
      String host,
      int port,
      int maxConcurrent,
      int maxQueue,
      Duration queueTimeout,
      Duration requestTimeout,
      long maxBodyBytes,
      long maxPixels,
      int maxSteps) {
    this(
        host,
        port,
        maxConcurrent,
        maxQueue,
        queueTimeout,
        requestTimeout,
        maxBodyBytes,
        maxPixels,
        maxSteps,
        1,
        DEFAULT_BATCH_WINDOW);
  }

  /** Validates the limits. */
  public ServerConfig {
    // --- issue 13: micro-batching ---
    if (maxBatch < 1 || maxBatch > MAX_BATCH_LIMIT) {
      throw new IllegalArgumentException(
          "maxBatch must be in 1.." + MAX_BATCH_LIMIT + ", got " + maxBatch);
    }
    if (batchWindow == null
        || batchWindow.isNegative()
        || batchWindow.compareTo(MAX_BATCH_WINDOW) > 0) {
      throw new IllegalArgumentException(
          "batchWindow must be 0.." + MAX_BATCH_WINDOW.toMillis() + " ms, got " + batchWindow);
    }
    if (maxConcurrent < 1
        || maxQueue < 0
        || maxBodyBytes < 1
        || maxPixels < 1
        || maxSteps < 1
        || port < 0) {
      throw new IllegalArgumentException(
          "invalid server limits: "
              + maxConcurrent
              + " concurrent, queue "
              + maxQueue
              + ", body "
              + maxBodyBytes
              + ", pixels "
              + maxPixels
              + ", steps "
              + maxSteps
              + ", port "
              + port);
    }
  }

  /**
   * Defaults: 127.0.0.1, any port, 2 concurrent calls, a queue of 32, 10 s queue wait, 60 s per
   * call, 8 MiB bodies, 4096 × 4096 pixels, 250 steps.
   *
   * @return the defaults
   */
  public static ServerConfig defaults() {
    return new ServerConfig(
        "127.0.0.1",
        0,
        2,
        32,
        Duration.ofSeconds(10),
        Duration.ofSeconds(60),
        8L << 20,
        4096L * 4096L,
        250);
  }

  /**
   * A copy with other concurrency limits.
   *
   * @param concurrent model calls running at once
   * @param queue requests allowed to wait
   * @return the copy
   */
  public ServerConfig withConcurrency(int concurrent, int queue) {
    return new ServerConfig(
        host,
        port,
        concurrent,
        queue,
        queueTimeout,
        requestTimeout,
        maxBodyBytes,
        maxPixels,
        maxSteps,
        maxBatch,
        batchWindow);
  }

  /**
   * A copy with other timeouts.
   *
   * @param queue the longest wait for a slot
   * @param request the longest model call
   * @return the copy
   */
  public ServerConfig withTimeouts(Duration queue, Duration request) {
    return new ServerConfig(
        host,
        port,
        maxConcurrent,
        maxQueue,
        queue,
        request,
        maxBodyBytes,
        maxPixels,
        maxSteps,
        maxBatch,
        batchWindow);
  }

  /**
   * A copy with other size limits.
   *
   * @param bodyBytes the largest request body
   * @param pixels the largest image, width × height
   * @return the copy
   */
  public ServerConfig withSizeLimits(long bodyBytes, long pixels) {
    return new ServerConfig(
        host,
        port,
        maxConcurrent,
        maxQueue,
        queueTimeout,
        requestTimeout,
        bodyBytes,
        pixels,
        maxSteps,
        maxBatch,
        batchWindow);
  }

  /**
   * A copy bound to another port.
   *
   * @param p the port, 0 for any free one
   * @return the copy
   */
  public ServerConfig withPort(int p) {
    return new ServerConfig(
        host,
        p,
        maxConcurrent,
        maxQueue,
        queueTimeout,
        requestTimeout,
        maxBodyBytes,
        maxPixels,
        maxSteps,
        maxBatch,
        batchWindow);
  }

  // --- issue 13: micro-batching ---
  /**
   * A copy that gathers concurrent generate requests into batches.
   *
   * @param batch the most requests per model call, 1 (off) to {@link #MAX_BATCH_LIMIT}
   * @param window how long a batch waits for more requests, 0 to {@link #MAX_BATCH_WINDOW}
   * @return the copy
   * @throws IllegalArgumentException when a value is out of range
   */
  public ServerConfig withBatching(int batch, Duration window) {
    return new ServerConfig(
        host,
        port,
        maxConcurrent,
        maxQueue,
        queueTimeout,
        requestTimeout,
        maxBodyBytes,
        maxPixels,
        maxSteps,
        batch,
        window);
  }
}
