package dev.rectok.eval;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.distributed.DistributedContext;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Evaluation over the ranks of a job: the work (an image set read in chunks of {@code batch}
 * images) is split by global chunk index, chunk {@code c} going to rank {@code c mod W}; after each
 * round of {@code W} chunks the ranks all-gather the chunks' results and every rank consumes them
 * in global chunk order. Whatever is accumulated from the results (the float64 streaming FID
 * statistics, the PSNR sum, the kept logits and pool features) is therefore computed from the same
 * per-chunk values in the same order for any world size: the statistics and metrics of {@code W}
 * processes equal one process's bit for bit, provided the network gives the same features for the
 * same chunk, which holds for the same thread count (see {@code docs/distributed.md}).
 *
 * <p>Results travel as float32, which is exact for what is sent (Inception features and logits,
 * per-image float32 MSEs). A rank that fails (an unreadable image) ends its process; the others'
 * next all-gather fails naming the lost rank.
 *
 * <p>The job is the process's installed one ({@link DistributedContext#install}, done by the CLI
 * under {@code rectok launch}); the world of one otherwise.
 *
 * <p><b>Threading.</b> {@link #forEachChunk} from the thread that owns the installed context's
 * collectives; the class has no state of its own.
 */
public final class EvalParallel {
  private EvalParallel() {}

  /**
   * One chunk's result: {@code n} rows, {@code values} laid out as the caller chooses (at most
   * {@code maxRows × width} floats), and the number of inputs the chunk skipped.
   *
   * @param values the result, length {@code n × width}
   * @param n rows (0 when every input of the chunk was skipped)
   * @param skipped inputs skipped in this chunk
   */
  public record Chunk(float[] values, int n, long skipped) {
    /** Checks the fields. */
    public Chunk {
      Objects.requireNonNull(values, "values");
      if (n < 0 || skipped < 0) {
        throw new IllegalArgumentException("n and skipped must be >= 0");
      }
    }
  }

  /** Computes (when {@code mine}) or passes over (when not) chunk {@code c}. */
  @FunctionalInterface
  public interface Producer {
    /**
     * Returns chunk {@code c}'s result when {@code mine}; otherwise advances past it and returns
     * null.
     */
    Chunk produce(int c, boolean mine) throws IOException;
  }

  /** Consumes the chunks' results in global chunk order. */
  @FunctionalInterface
  public interface Consumer {
    /** Takes chunk {@code c}'s result. */
    void accept(int c, Chunk chunk) throws IOException;
  }

  /**
   * Runs {@code chunks} chunks over the installed job: this rank produces its chunks, every rank
   * consumes all of them in order. In a world of one it is a plain loop.
   *
   * @param maxRows the most rows a chunk has
   * @param width floats per row
   */
  public static void forEachChunk(
      int chunks, int maxRows, int width, Producer producer, Consumer consumer) throws IOException {
    DistributedContext c = DistributedContext.installed();
    int w = c.size();
    int rank = c.rank();
    long cap = (long) maxRows * width;
    if (chunks < 0 || maxRows < 1 || width < 1 || cap + 2 > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "bad chunking: " + chunks + " chunks of " + maxRows + " x " + width);
    }
    for (int first = 0; first < chunks; first += w) {
      Chunk own = null;
      for (int q = 0; q < w && first + q < chunks; q++) {
        Chunk r = producer.produce(first + q, q == rank);
        if (q == rank) {
          own = Objects.requireNonNull(r, "the producer returned no result for its own chunk");
          if ((long) own.n() * width != own.values().length || own.n() > maxRows) {
            throw new IllegalArgumentException(
                "chunk "
                    + (first + q)
                    + " has "
                    + own.values().length
                    + " values for "
                    + own.n()
                    + " rows of "
                    + width
                    + " (at most "
                    + maxRows
                    + " rows)");
          }
        }
      }
      if (w == 1) {
        consumer.accept(first, own);
        continue;
      }
      Chunk[] round = exchange(c, own, (int) cap, width);
      for (int q = 0; q < w && first + q < chunks; q++) {
        if (round[q] == null) {
          throw new IllegalStateException("rank " + q + " sent no result for chunk " + (first + q));
        }
        consumer.accept(first + q, round[q]);
      }
    }
  }

  // One round's all-gather of [n, skipped, values..., padding] per rank; n = -1: no chunk (past
  // the end of the work). Index q of the result is rank q's chunk.
  private static Chunk[] exchange(DistributedContext c, Chunk own, int cap, int width) {
    float[] buf = new float[cap + 2];
    if (own != null) {
      buf[0] = own.n();
      buf[1] = own.skipped();
      System.arraycopy(own.values(), 0, buf, 2, own.values().length);
    } else {
      buf[0] = -1;
    }
    Chunk[] out = new Chunk[c.size()];
    try (Scope s = Scope.open()) {
      Tensor in = Tensor.of(buf, buf.length);
      List<Tensor> all = new ArrayList<>();
      for (int q = 0; q < c.size(); q++) {
        all.add(Tensor.zeros(buf.length));
      }
      try (var work = c.group().allgather(in, all)) {
        work.await();
      }
      for (int q = 0; q < all.size(); q++) {
        float[] v = all.get(q).toFloatArray();
        int n = (int) v[0];
        if (n >= 0) {
          out[q] = new Chunk(Arrays.copyOfRange(v, 2, 2 + n * width), n, (long) v[1]);
        }
      }
    }
    return out;
  }
}
