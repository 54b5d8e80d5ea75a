package dev.rectok.train.distributed;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.distributed.DistributedContext;
import dev.rectok.torch.distributed.DistributedSampler;
import dev.rectok.train.tokenizer.TrainingNoise;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The data-parallel setting of this process, shared by every trainer: the {@link
 * DistributedContext} installed by the entry point (the CLI under {@code rectok launch} or {@code
 * torchrun}, or an embedding application), {@link DistributedContext#local()} until then. Trainers
 * read it to shard data ({@link #sampler}), synchronise gradients, write only on rank 0 ({@link
 * #isMain}, {@link #runDirFor}) and draw their per-sample noise for the global batch, keeping their
 * rows ({@link #rows}).
 *
 * <p><b>Global-batch noise.</b> Rank {@code r}'s local row {@code j} is row {@code r + j·W} of the
 * global batch (the {@link DistributedSampler}'s interleaving). Every rank's generators are seeded
 * alike, draw the noise of the whole global batch and keep their rows, so each sample gets the same
 * noise whatever the world size: a run of {@code W} processes with per-process batch {@code b}
 * follows a one-process run with batch {@code W·b} up to the order of floating-point sums. Drawing
 * {@code W} times the noise costs little next to a step.
 *
 * <p><b>Threading.</b> {@link #install} once, before training; the accessors from any thread.
 */
public final class DataParallel {
  private DataParallel() {}

  /** Makes {@code context} this process's setting (the caller keeps ownership and closes it). */
  public static void install(DistributedContext context) {
    DistributedContext.install(context);
  }

  /** Back to the world of one. */
  public static void reset() {
    DistributedContext.uninstall();
  }

  /** The installed context. */
  public static DistributedContext current() {
    return DistributedContext.installed();
  }

  /** Whether this process writes checkpoints, metrics, samples and exports (rank 0). */
  public static boolean isMain() {
    return current().isMain();
  }

  /** The number of processes. */
  public static int worldSize() {
    return current().size();
  }

  /**
   * This rank's rows {@code rank, rank + W, …} of a draw for the global batch (dim 0 of size {@code
   * W·b}); the draw itself in a world of one. Borrows {@code global}; the result belongs to the
   * current scope.
   */
  public static Tensor rows(Tensor global) {
    DistributedContext c = current();
    if (!c.isDistributed()) {
      return global;
    }
    try (Scope s = Scope.open()) {
      return s.keep(global.slice(0, c.rank(), global.size(0), c.size()).contiguous());
    }
  }

  /** {@code shape} with dim 0 multiplied by the world size (the global batch of a local shape). */
  public static long[] globalShape(long[] shape) {
    long[] g = shape.clone();
    g[0] *= current().size();
    return g;
  }

  /**
   * {@code noise} drawing for the global batch and keeping this rank's rows; {@code noise} itself
   * in a world of one.
   */
  public static TrainingNoise shard(TrainingNoise noise) {
    return current().isDistributed() ? new ShardedNoise(noise) : noise;
  }

  /**
   * PyTorch's {@code DistributedSampler} for this rank over {@code size} samples (shuffled,
   * padded).
   */
  public static DistributedSampler sampler(int size, long seed) {
    DistributedContext c = current();
    return new DistributedSampler(size, c.size(), c.rank(), true, seed, false);
  }

  /**
   * Where this rank keeps its run directory: {@code runDir} on rank 0; on the others a private
   * scratch directory (deleted at exit), since only rank 0 writes the run. The other ranks read
   * rank 0's checkpoints when resuming.
   */
  public static Path runDirFor(Path runDir) {
    DistributedContext c = current();
    if (c.isMain()) {
      return runDir;
    }
    try {
      Path scratch = Files.createTempDirectory("rectok-rank" + c.rank() + "-");
      Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(scratch)));
      return scratch.resolve("run");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // best effort at exit
    }
  }
}
