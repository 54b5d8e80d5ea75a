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
    int maxSteps) {

  /** Validates the limits. */
  public ServerConfig {
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
        maxSteps);
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
        host, port, maxConcurrent, maxQueue, queue, request, maxBodyBytes, maxPixels, maxSteps);
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
        maxSteps);
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
        maxSteps);
  }
}
