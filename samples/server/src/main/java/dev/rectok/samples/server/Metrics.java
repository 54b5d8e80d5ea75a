package dev.rectok.samples.server;

import dev.rectok.api.NativeMemory;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Request counters and latency sums per endpoint and status, rendered in the Prometheus text
 * format. Thread-safe (lock-free adders).
 */
public final class Metrics {
  /** Empty counters; the server makes one. */
  Metrics() {}

  final AtomicInteger inFlight = new AtomicInteger();
  final LongAdder cancelled = new LongAdder();
  private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> nanos = new ConcurrentHashMap<>();

  void record(String endpoint, int status, long elapsedNanos) {
    String key = endpoint + "|" + status;
    counts.computeIfAbsent(key, k -> new LongAdder()).increment();
    nanos.computeIfAbsent(key, k -> new LongAdder()).add(elapsedNanos);
  }

  /**
   * Requests answered so far with {@code status} on {@code endpoint}.
   *
   * @param endpoint the endpoint's name ({@code generate}, {@code health}, ...)
   * @param status the HTTP status
   * @return the count
   */
  public long count(String endpoint, int status) {
    LongAdder a = counts.get(endpoint + "|" + status);
    return a == null ? 0 : a.sum();
  }

  /**
   * Requests answered so far with a status in [lo, hi], all endpoints.
   *
   * @param lo the lowest status counted
   * @param hi the highest status counted
   * @return the count
   */
  public long countStatus(int lo, int hi) {
    return counts.entrySet().stream()
        .filter(
            e -> {
              int s = Integer.parseInt(e.getKey().substring(e.getKey().indexOf('|') + 1));
              return s >= lo && s <= hi;
            })
        .mapToLong(e -> e.getValue().sum())
        .sum();
  }

  /** {@return the model calls stopped because the client went away or the timeout passed} */
  public long cancelled() {
    return cancelled.sum();
  }

  // --- issue 13: micro-batching ---
  /** Upper bounds of the batch-size histogram's buckets (then +Inf). */
  private static final int[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256};

  private final LongAdder[] batchBuckets = new LongAdder[BATCH_BUCKETS.length];
  private final LongAdder batches = new LongAdder();
  private final LongAdder batchRows = new LongAdder();

  {
    for (int i = 0; i < batchBuckets.length; i++) {
      batchBuckets[i] = new LongAdder();
    }
  }

  void recordBatch(int rows) {
    batches.increment();
    batchRows.add(rows);
    for (int i = 0; i < BATCH_BUCKETS.length; i++) {
      if (rows <= BATCH_BUCKETS[i]) {
        batchBuckets[i].increment(); // cumulative buckets are summed when rendered
        break;
      }
    }
  }

  /** {@return the batched model calls run so far (batching mode only; 0 without batching)} */
  public long batches() {
    return batches.sum();
  }

  /** {@return the mean rows per batched model call, 0 before the first} */
  public double meanBatchSize() {
    long n = batches.sum();
    return n == 0 ? 0 : (double) batchRows.sum() / n;
  }

  private void batchHistogram(StringBuilder sb) {
    sb.append("# TYPE rectok_generate_batch_size histogram\n");
    long cumulative = 0;
    for (int i = 0; i < BATCH_BUCKETS.length; i++) {
      cumulative += batchBuckets[i].sum();
      sb.append("rectok_generate_batch_size_bucket{le=\"")
          .append(BATCH_BUCKETS[i])
          .append("\"} ")
          .append(cumulative)
          .append('\n');
    }
    sb.append("rectok_generate_batch_size_bucket{le=\"+Inf\"} ").append(batches.sum()).append('\n');
    sb.append("rectok_generate_batch_size_sum ").append(batchRows.sum()).append('\n');
    sb.append("rectok_generate_batch_size_count ").append(batches.sum()).append('\n');
  }

  String prometheus(int queued, NativeMemory memory) {
    StringBuilder sb = new StringBuilder();
    sb.append("# TYPE rectok_requests_total counter\n");
    new TreeMap<>(counts).forEach((k, v) -> sb.append(line("rectok_requests_total", k, v.sum())));
    sb.append("# TYPE rectok_request_seconds_sum counter\n");
    new TreeMap<>(nanos)
        .forEach((k, v) -> sb.append(line("rectok_request_seconds_sum", k, v.sum() / 1e9)));
    sb.append("# TYPE rectok_in_flight gauge\nrectok_in_flight ")
        .append(inFlight.get())
        .append('\n');
    sb.append("# TYPE rectok_queued gauge\nrectok_queued ").append(queued).append('\n');
    sb.append("# TYPE rectok_cancelled_total counter\nrectok_cancelled_total ")
        .append(cancelled.sum())
        .append('\n');
    sb.append("# TYPE rectok_native_live_tensors gauge\nrectok_native_live_tensors ")
        .append(memory.liveTensors())
        .append('\n');
    sb.append("# TYPE rectok_process_resident_bytes gauge\nrectok_process_resident_bytes ")
        .append(memory.residentBytes())
        .append('\n');
    batchHistogram(sb); // issue 13
    return sb.toString();
  }

  private static String line(String name, String key, Object value) {
    int bar = key.indexOf('|');
    return name
        + "{endpoint=\""
        + key.substring(0, bar)
        + "\",status=\""
        + key.substring(bar + 1)
        + "\"} "
        + value
        + "\n";
  }
}
