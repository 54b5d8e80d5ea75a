package dev.rectok.api;

import java.time.Duration;

/**
 * When a training call stops before its schedule ends: after {@code maxSteps} optimizer steps in
 * total (across resumes) or {@code maxTime} of wall time in this call. A stopped run resumes from
 * its last checkpoint with the next call. Immutable; thread-safe.
 *
 * @param maxSteps total step limit, {@code Long.MAX_VALUE} for none
 * @param maxTime wall-time limit of one call, null for none
 */
public record TrainingLimits(long maxSteps, Duration maxTime) {

  /** Validates the limits. */
  public TrainingLimits {
    if (maxSteps < 1) {
      throw new IllegalArgumentException("max steps must be >= 1, got " + maxSteps);
    }
    if (maxTime != null && (maxTime.isNegative() || maxTime.isZero())) {
      throw new IllegalArgumentException("max time must be positive, got " + maxTime);
    }
  }

  /**
   * No limit: train to the end of the schedule.
   *
   * @return limits that never stop training
   */
  public static TrainingLimits none() {
    return new TrainingLimits(Long.MAX_VALUE, null);
  }

  /**
   * At most {@code steps} steps in total.
   *
   * @param steps the most optimizer steps
   * @return a copy with that limit
   */
  public TrainingLimits withMaxSteps(long steps) {
    return new TrainingLimits(steps, maxTime);
  }

  /**
   * At most {@code minutes} minutes of wall time in one call.
   *
   * @param minutes the most wall-clock minutes
   * @return a copy with that limit
   */
  public TrainingLimits withMaxMinutes(double minutes) {
    return new TrainingLimits(maxSteps, Duration.ofMillis(Math.round(minutes * 60_000)));
  }
}
