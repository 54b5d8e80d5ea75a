package dev.rectok.torch.distributed;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Heartbeats through the store, so that a failed collective can name the ranks that died: every
 * rank bumps its counter {@code rectok/hb/<rank>} each interval; after a failure, the counters that
 * do not move for three intervals belong to lost ranks. When the store itself is gone, rank 0
 * (which hosts a TCP store) is the lost one.
 *
 * <p><b>Ownership.</b> Borrows the store (which must outlive it); owns its daemon thread, stopped
 * and joined by {@link #close}. <b>Threading.</b> {@link #lostRanks} may be called from any thread.
 */
final class Liveness implements AutoCloseable {
  private final Store store;
  private final int rank;
  private final int size;
  private final Duration interval;
  private final Thread thread;
  private volatile boolean running = true;

  Liveness(Store store, int rank, int size, Duration interval) {
    this.store = store;
    this.rank = rank;
    this.size = size;
    this.interval = interval;
    store.add(key(rank), 1);
    this.thread = Thread.ofPlatform().daemon().name("rectok-heartbeat-" + rank).start(this::beat);
  }

  private static String key(int r) {
    return "rectok/hb/" + r;
  }

  private void beat() {
    while (running) {
      try {
        Thread.sleep(interval);
        if (running) {
          store.add(key(rank), 1);
        }
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        return; // the store is gone; lostRanks() will say so
      }
    }
  }

  /** The ranks (other than this one) whose heartbeat stopped; blocks about three intervals. */
  List<Integer> lostRanks() {
    try {
      long[] before = counters();
      Thread.sleep(interval.multipliedBy(3));
      long[] after = counters();
      List<Integer> lost = new ArrayList<>();
      for (int r = 0; r < size; r++) {
        if (r != rank && after[r] == before[r]) {
          lost.add(r);
        }
      }
      return lost;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return List.of();
    } catch (RuntimeException e) {
      return rank == 0 ? List.of() : List.of(0);
    }
  }

  private long[] counters() {
    long[] c = new long[size];
    for (int r = 0; r < size; r++) {
      c[r] = store.add(key(r), 0);
    }
    return c;
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
    try {
      thread.join(interval.toMillis() * 10 + 1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
