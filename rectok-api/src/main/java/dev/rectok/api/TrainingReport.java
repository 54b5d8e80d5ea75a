package dev.rectok.api;

import java.nio.file.Path;
import java.util.Map;

/**
 * What one training call did. Immutable; thread-safe.
 *
 * @param runDirectory the run's directory (config, metrics, checkpoints, samples)
 * @param resumedAtStep the step the call resumed from (0 for a fresh run)
 * @param steps total optimizer steps of the run so far
 * @param completed whether the schedule's last epoch finished
 * @param stoppedBy {@code "epochs"}, {@code "max-steps"} or {@code "max-time"}
 * @param imagesPerSecond training throughput of this call
 * @param lastMetrics the last step's scalar metrics (loss terms, lr, ...)
 */
public record TrainingReport(
    Path runDirectory,
    long resumedAtStep,
    long steps,
    boolean completed,
    String stoppedBy,
    double imagesPerSecond,
    Map<String, Double> lastMetrics) {

  /** Validates the report. */
  public TrainingReport {
    lastMetrics = Map.copyOf(lastMetrics);
  }
}
