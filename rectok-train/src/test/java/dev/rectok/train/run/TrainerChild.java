package dev.rectok.train.run;

import java.nio.file.Path;
import java.util.Map;

/**
 * The child JVM of {@link KillResumeTest}: opens (or resumes) a run folder and trains {@link
 * TinyRun}, appending a metrics line and saving a checkpoint after every step, until it is killed
 * or reaches the step limit; a restart resumes from the latest checkpoint. Arguments: run folder,
 * seed, step limit.
 */
public final class TrainerChild {
  private TrainerChild() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    TinyConfig cfg = KillResumeTest.config(Long.parseLong(args[1]));
    long limit = Long.parseLong(args[2]);
    try (RunDirectory run = RunDirectory.open(dir, cfg, 3);
        TinyRun t = new TinyRun(cfg)) {
      var resumed = run.checkpoints().restoreLatest(t.checkpoint);
      if (resumed.isPresent()) {
        t.restored(resumed.get());
        run.rewindMetrics("step", t.step); // lines of steps after the checkpoint are redone
      }
      while (t.step < limit) {
        t.step();
        run.appendMetrics(Map.of("step", t.step, "loss", t.lastLoss));
        run.checkpoints().save(t.checkpoint, t.counters());
      }
    }
  }
}
