package dev.rectok.train.distributed;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.api.DType;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.distributed.DistributedContext;
import dev.rectok.torch.distributed.ReduceOp;
import dev.rectok.torch.distributed.Work;
import dev.rectok.train.run.CheckpointStore;
import dev.rectok.train.run.RunDirectory;
import dev.rectok.train.run.TrainingCheckpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The rank-aware parts of a run (issue 14), used by {@link dev.rectok.train.loop.TrainLoop}:
 * resuming every rank from rank 0's checkpoint, the world-size rule on resume, agreeing on a stop,
 * and what checkpoints record. In a world of one each is what a single process does.
 *
 * <p>Stateless apart from a counter of restores (so that several runs in one process use distinct
 * store keys, in the same order on every rank). Thread-safe.
 */
public final class DistributedRuns {
  /** The checkpoint extras key holding the world size a run was trained with. */
  public static final String WORLD_SIZE = "world_size";

  private static final AtomicLong RESTORES = new AtomicLong();

  private DistributedRuns() {}

  /**
   * Restores {@code checkpoint} on every rank: rank 0 from its run directory's newest complete
   * checkpoint, then it tells the others (through the store) which file that was, and they read the
   * same file (so the run directory must be on a file system every rank sees). Returns the
   * counters, or empty for a fresh run.
   */
  public static Optional<TrainingCheckpoint.Counters> restore(
      RunDirectory run, TrainingCheckpoint checkpoint, DistributedContext dist) throws IOException {
    if (!dist.isDistributed()) {
      return run.checkpoints().restoreLatest(checkpoint);
    }
    String key = "rectok/restore/" + RESTORES.incrementAndGet();
    if (dist.isMain()) {
      Optional<TrainingCheckpoint.Counters> c = run.checkpoints().restoreLatest(checkpoint);
      String file =
          c.map(
                  x ->
                      run.checkpoints()
                          .dir()
                          .resolve(CheckpointStore.fileName(x.step()))
                          .toAbsolutePath()
                          .toString())
              .orElse("");
      dist.store().set(key, file);
      return c;
    }
    String file = dist.store().getString(key);
    return file.isEmpty() ? Optional.empty() : Optional.of(checkpoint.read(Path.of(file)));
  }

  /** The extras a checkpoint records: the world size. */
  public static JsonNode extras(DistributedContext dist) {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.put(WORLD_SIZE, dist.size());
    return o;
  }

  /**
   * Resuming with another world size: allowed at an epoch boundary (the next epoch is sharded
   * afresh from the seed), refused mid-epoch, where the saved data position belongs to the old
   * shards. A checkpoint without the key was written by one process.
   *
   * @throws IllegalStateException with the sentence to show the user
   */
  public static void checkWorldSize(
      TrainingCheckpoint.Counters c, int batchSize, DistributedContext dist) {
    JsonNode ws = c.extras().get(WORLD_SIZE);
    int saved = ws == null ? 1 : ws.asInt(1);
    if (saved != dist.size() && c.dataPosition().length > 0) {
      throw new IllegalStateException(
          "the run's checkpoint at step "
              + c.step()
              + " was written by "
              + saved
              + " process"
              + (saved == 1 ? "" : "es")
              + " in the middle of epoch "
              + c.epoch()
              + "; resume it with "
              + saved
              + " process"
              + (saved == 1 ? "" : "es")
              + " (--nproc-per-node / WORLD_SIZE), or with another count "
              + "only from a checkpoint at an epoch boundary. The global batch is batch_size × processes ("
              + batchSize
              + " × "
              + dist.size()
              + " now)");
    }
  }

  /**
   * Whether to stop, decided alike on every rank: when {@code timed} (a time limit exists) the
   * ranks' {@code local} answers are combined by an all-reduce (any rank out of time stops all),
   * else {@code local} as is (it is then the same everywhere).
   */
  public static boolean agree(DistributedContext dist, boolean timed, boolean local) {
    if (!dist.isDistributed() || !timed) {
      return local;
    }
    try (Scope s = Scope.open()) {
      Tensor flag = Tensor.of(new float[] {local ? 1f : 0f}, 1).to(DType.FLOAT32);
      try (Work w = dist.group().allreduce(flag, ReduceOp.MAX)) {
        w.await();
      }
      return flag.toFloatArray()[0] != 0f;
    }
  }
}
