package dev.rectok.train.loop;

import dev.rectok.api.Progress;
import dev.rectok.torch.distributed.DistributedContext;
import dev.rectok.train.distributed.DataParallel;
import dev.rectok.train.distributed.DistributedRuns;
import dev.rectok.train.run.RunDirectory;
import dev.rectok.train.run.TrainingCheckpoint;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Drives a {@link TrainingTask} over a {@link BatchSource} inside a {@link RunDirectory}: resumes
 * from the latest complete checkpoint, feeds batches epoch by epoch with the fractional epoch the
 * reference's schedules use, appends metrics as JSON lines, reports progress (loss, throughput,
 * ETA), checkpoints every {@link Limits#checkpointEvery} steps and when it stops, and stops at the
 * end of the last epoch, after {@link Limits#maxSteps} steps in total, or after {@link
 * Limits#maxTime} of this process's time — whichever comes first.
 *
 * <p>Resume is exact: the checkpoint holds the task's state (models, EMA, optimizers, RNGs), the
 * step, the epoch and the data position; metrics lines written after that checkpoint are removed so
 * a killed run resumed from it continues bit-identically to an uninterrupted one (on CPU).
 *
 * <p><b>Data parallel</b> (issue 14, {@link DataParallel}): every rank runs the loop on its shard;
 * rank 0 restores, writes metrics and checkpoints (a barrier after each), the others restore from
 * rank 0's checkpoint file; a time limit stops every rank at the same step.
 *
 * <p><b>Without a run directory</b> ({@link #run(BatchSource, TrainingTask, Limits, Progress)}) the
 * same loop trains in memory: no resume, no metrics file, no checkpoints. The SDK's small
 * classifiers (the demo teacher, the MLP check) train that way.
 *
 * <p><b>Threading and ownership.</b> {@link #run} works on the calling thread and borrows the run
 * directory, the source and the task (closes none of them); each batch is closed after its step.
 */
public final class TrainLoop {
  private static final System.Logger LOG = System.getLogger(TrainLoop.class.getName());

  private TrainLoop() {}

  /**
   * When to stop and how often to write.
   *
   * @param epochs epochs in the run (the schedule's length)
   * @param maxSteps stop after this many steps in total ({@code Long.MAX_VALUE}: no limit)
   * @param maxTime stop after this much wall time in this process ({@code null}: no limit)
   * @param checkpointEvery steps between checkpoints (a final one is always written)
   * @param logEvery steps between metrics lines
   */
  public record Limits(
      int epochs, long maxSteps, Duration maxTime, long checkpointEvery, long logEvery) {
    /** Checks the values. */
    public Limits {
      if (epochs < 1 || maxSteps < 1 || checkpointEvery < 1 || logEvery < 1) {
        throw new IllegalArgumentException(
            "epochs, max steps, checkpoint and log intervals must be >= 1, got "
                + epochs
                + ", "
                + maxSteps
                + ", "
                + checkpointEvery
                + ", "
                + logEvery);
      }
      if (maxTime != null && (maxTime.isNegative() || maxTime.isZero())) {
        throw new IllegalArgumentException("max time must be positive, got " + maxTime);
      }
    }

    /**
     * {@code epochs} epochs, no step or time limit, a checkpoint every 500 steps, metrics every 10.
     */
    public static Limits epochs(int epochs) {
      return new Limits(epochs, Long.MAX_VALUE, null, 500, 10);
    }

    /** The same limits with at most {@code steps} steps in total. */
    public Limits withMaxSteps(long steps) {
      return new Limits(epochs, steps, maxTime, checkpointEvery, logEvery);
    }

    /** The same limits with at most {@code time} of wall time in this process. */
    public Limits withMaxTime(Duration time) {
      return new Limits(epochs, maxSteps, time, checkpointEvery, logEvery);
    }

    /** The same limits with other checkpoint and metrics intervals. */
    public Limits withIntervals(long checkpointEvery, long logEvery) {
      return new Limits(epochs, maxSteps, maxTime, checkpointEvery, logEvery);
    }
  }

  /**
   * What a call to {@link #run} did.
   *
   * @param resumedAtStep the step it resumed from (0 for a fresh run)
   * @param steps total steps done in the run (all processes)
   * @param stepsThisRun steps done by this call
   * @param completed whether the last epoch finished
   * @param stoppedBy {@code "epochs"}, {@code "max-steps"} or {@code "max-time"}
   * @param imagesPerSecond this call's training throughput
   * @param lastMetrics the last step's metrics (empty when no step ran)
   */
  public record Outcome(
      long resumedAtStep,
      long steps,
      long stepsThisRun,
      boolean completed,
      String stoppedBy,
      double imagesPerSecond,
      Map<String, Double> lastMetrics) {

    /**
     * This outcome as the API's report of the run in {@code runDir}.
     *
     * @param runDir the run directory
     * @return the report
     */
    public dev.rectok.api.TrainingReport toReport(java.nio.file.Path runDir) {
      return new dev.rectok.api.TrainingReport(
          runDir, resumedAtStep, steps, completed, stoppedBy, imagesPerSecond, lastMetrics);
    }
  }

  /**
   * Runs the task in memory until a limit, from step 0: no run directory, so nothing is resumed,
   * logged to a file or checkpointed; see the class comment.
   */
  public static Outcome run(BatchSource data, TrainingTask task, Limits limits, Progress progress) {
    try {
      return run(null, data, task, limits, progress);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("unreachable: no run directory to write", e);
    }
  }

  /** Runs (or resumes) the task until a limit; see the class comment. */
  public static Outcome run(
      RunDirectory run, BatchSource data, TrainingTask task, Limits limits, Progress progress)
      throws IOException {
    TrainingCheckpoint checkpoint = new TrainingCheckpoint();
    task.register(checkpoint);
    long step = 0;
    int epoch = 0;
    long[] position = null;
    DistributedContext dist = DataParallel.current(); // issue 14
    Optional<TrainingCheckpoint.Counters> restored =
        run == null ? Optional.empty() : DistributedRuns.restore(run, checkpoint, dist);
    if (run != null && dist.isMain()) {
      // The task is built and its configuration accepted: now the run folder is bound to it.
      run.commitConfig();
      if (restored.isEmpty()) {
        // --- issue 10: a run killed before its first checkpoint restarts at step 0; drop its
        // records ---
        int dropped = run.rewindMetrics("step", 0);
        if (dropped > 0) {
          System.getLogger(TrainLoop.class.getName())
              .log(
                  System.Logger.Level.INFO,
                  "no checkpoint in {0}: dropped {1} metrics lines of an interrupted start",
                  run.dir(),
                  dropped);
        }
      }
    }
    if (restored.isPresent()) {
      TrainingCheckpoint.Counters c = restored.get();
      step = c.step();
      epoch = (int) c.epoch();
      position = c.dataPosition().length == 0 ? null : c.dataPosition();
      DistributedRuns.checkWorldSize(c, data.batchSize(), dist);
      int dropped = dist.isMain() ? run.rewindMetrics("step", step) : 0;
      LOG.log(
          System.Logger.Level.INFO,
          "resumed {0} at step {1} (epoch {2}, data position {3}); dropped {4} metrics lines written after it",
          run.dir(),
          step,
          epoch,
          Arrays.toString(position),
          dropped);
    }
    long resumedAt = step;
    long perEpoch = data.batchesPerEpoch();
    if (perEpoch < 1) {
      throw new IllegalArgumentException("the data source has no full batch");
    }
    long planned = Math.min(limits.maxSteps(), limits.epochs() * perEpoch);
    long started = System.nanoTime();
    long deadline =
        limits.maxTime() == null ? Long.MAX_VALUE : started + limits.maxTime().toNanos();
    long images = 0;
    long lastCheckpoint = step;
    Map<String, Double> last = Map.of();
    String stoppedBy = "epochs";
    progress.start("train", planned);
    try {
      outer:
      while (epoch < limits.epochs()) {
        try (BatchSource.Pass pass = data.open(epoch, position)) {
          while (pass.hasNext()) {
            if (step >= limits.maxSteps()) {
              stoppedBy = "max-steps";
              position = pass.position();
              break outer;
            }
            if (DistributedRuns.agree(
                dist, deadline != Long.MAX_VALUE, System.nanoTime() >= deadline)) {
              stoppedBy = "max-time";
              position = pass.position();
              break outer;
            }
            try (Batch batch = pass.next()) {
              double fractionalEpoch = epoch + (double) batch.index() / perEpoch;
              last = task.step(batch, fractionalEpoch);
              images += (long) batch.size() * dist.size(); // issue 14: the job's images
            }
            step++;
            position = pass.position();
            double seconds = (System.nanoTime() - started) / 1e9;
            double rate = images / Math.max(seconds, 1e-9);
            if (run != null && step % limits.logEvery() == 0 && dist.isMain()) {
              Map<String, Object> line = new LinkedHashMap<>();
              line.put("step", step);
              line.put("epoch", epoch + (double) (position[0]) / perEpoch);
              line.putAll(last);
              line.put("images_per_second", rate);
              run.appendMetrics(line);
            }
            progress.update(
                step,
                status(last, rate, (step - resumedAt) / Math.max(seconds, 1e-9), planned - step));
            if (run != null && step - lastCheckpoint >= limits.checkpointEvery()) {
              save(run, checkpoint, step, epoch, position);
              lastCheckpoint = step;
            }
          }
        }
        epoch++;
        position = null;
      }
      if (run != null && (step > lastCheckpoint || resumedAt == step)) {
        save(run, checkpoint, step, epoch, position);
      }
    } finally {
      progress.end();
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    return new Outcome(
        resumedAt,
        step,
        step - resumedAt,
        epoch >= limits.epochs(),
        stoppedBy,
        images / Math.max(seconds, 1e-9),
        last);
  }

  private static void save(
      RunDirectory run, TrainingCheckpoint checkpoint, long step, int epoch, long[] position)
      throws IOException {
    // issue 14: rank 0 writes (with the world size it was trained with), every rank waits for it
    DistributedContext dist = DataParallel.current();
    if (dist.isMain()) {
      run.checkpoints()
          .save(
              checkpoint,
              new TrainingCheckpoint.Counters(
                  step,
                  epoch,
                  position == null ? new long[0] : position,
                  DistributedRuns.extras(dist)));
    }
    dist.barrier();
  }

  /** "loss 0.1234 · 52.1 img/s · ETA 3m05s". */
  static String status(
      Map<String, Double> metrics, double imagesPerSecond, double stepsPerSecond, long stepsLeft) {
    StringBuilder sb = new StringBuilder();
    Double loss = metrics.get("loss");
    if (loss != null) {
      sb.append(String.format("loss %.4f · ", loss));
    }
    sb.append(String.format("%.1f img/s", imagesPerSecond));
    if (stepsPerSecond > 0 && stepsLeft > 0) {
      long eta = Math.round(stepsLeft / stepsPerSecond);
      sb.append(String.format(" · ETA %dm%02ds", eta / 60, eta % 60));
    }
    return sb.toString();
  }
}
