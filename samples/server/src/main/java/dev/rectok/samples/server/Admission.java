package dev.rectok.samples.server;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounded concurrency with a bounded queue: {@code concurrent} model calls run, up to {@code queue}
 * more wait (at most {@code timeout}), the rest are refused at once. Thread-safe.
 */
final class Admission {
  private final Semaphore slots;
  private final int maxQueue;
  private final Duration timeout;
  private final AtomicInteger waiting = new AtomicInteger();

  Admission(int concurrent, int maxQueue, Duration timeout) {
    this.slots = new Semaphore(concurrent, true);
    this.maxQueue = maxQueue;
    this.timeout = timeout;
  }

  /**
   * A slot to release with {@link #release()}; 503 when the queue is full or the wait timed out.
   */
  void acquire() throws InterruptedException {
    if (slots.tryAcquire()) {
      return;
    }
    if (waiting.incrementAndGet() > maxQueue) {
      waiting.decrementAndGet();
      throw new HttpError(
          503, "overloaded: " + maxQueue + " requests are already waiting; retry later");
    }
    try {
      if (!slots.tryAcquire(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new HttpError(
            503, "overloaded: no slot within " + timeout.toMillis() + " ms; retry later");
      }
    } finally {
      waiting.decrementAndGet();
    }
  }

  void release() {
    slots.release();
  }

  int waiting() {
    return waiting.get();
  }
}
