package dev.rectok.cli;

import dev.rectok.api.Progress;
import dev.rectok.eval.EvalParallel;
import dev.rectok.torch.Torch;
import dev.rectok.torch.distributed.DistributedContext;
import dev.rectok.torch.distributed.DistributedEnv;
import dev.rectok.torch.distributed.LocalLauncher;
import dev.rectok.train.distributed.DataParallel;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * A command's membership in a data-parallel job (issue 14): under {@code rectok launch} or {@code
 * torchrun} (the environment has {@code WORLD_SIZE}) it joins the job, installs it for the trainers
 * ({@link DataParallel}) and the evaluations ({@link EvalParallel}), sets the intra-op threads to
 * cores ÷ local processes (unless {@code OMP_NUM_THREADS} is set) and watches the launcher;
 * otherwise it does nothing. {@code RECTOK_DIST_TIMEOUT} (seconds, default 600) bounds the
 * rendezvous and every collective.
 *
 * <p>Owns the context; {@link #close} waits for the other ranks after a clean run ({@link #done})
 * and frees it. One per command, on its thread.
 */
final class DistributedSession implements AutoCloseable {
  private final DistributedContext context;
  private boolean done;

  private DistributedSession(DistributedContext context) {
    this.context = context;
  }

  static DistributedSession open() {
    Map<String, String> env = System.getenv();
    Optional<DistributedEnv> e = DistributedEnv.from(env);
    if (e.isEmpty() || e.get().worldSize() == 1) {
      return new DistributedSession(DistributedContext.local());
    }
    LocalLauncher.watchLauncher(env);
    if (env.get("OMP_NUM_THREADS") == null) {
      Torch.setNumThreads(e.get().threadsPerProcess(Runtime.getRuntime().availableProcessors()));
    }
    long seconds = 600;
    String t = env.get("RECTOK_DIST_TIMEOUT");
    if (t != null && !t.isBlank()) {
      try {
        seconds = Long.parseLong(t.strip());
      } catch (NumberFormatException ex) {
        throw new IllegalArgumentException(
            "RECTOK_DIST_TIMEOUT must be a number of seconds, got '" + t + "'");
      }
    }
    DistributedContext ctx = DistributedContext.init(e.get(), Duration.ofSeconds(seconds));
    DataParallel.install(ctx); // the trainers' and the evaluations' (EvalParallel) job
    return new DistributedSession(ctx);
  }

  boolean isMain() {
    return context.isMain();
  }

  /** This process's rank (0 outside a job). */
  int rank() {
    return context.rank();
  }

  /** The number of processes (1 outside a job). */
  int size() {
    return context.size();
  }

  /** The progress bar on rank 0, nothing elsewhere (one bar per job). */
  Progress progress() {
    return context.isMain() ? new ConsoleProgress(System.err) : Progress.NONE;
  }

  /** Marks the command as finished cleanly, so {@link #close} waits for every rank. */
  void done() {
    done = true;
  }

  /** Waits for every rank after a clean run, so rank 0 keeps the store up until all are done. */
  void barrier() {
    context.barrier();
  }

  @Override
  public void close() {
    try {
      if (done) {
        context.barrier();
      }
    } finally {
      DataParallel.reset();
      context.close();
    }
  }
}
