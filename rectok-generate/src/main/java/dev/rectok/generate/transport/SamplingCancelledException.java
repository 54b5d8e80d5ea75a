package dev.rectok.generate.transport;

import java.util.concurrent.CancellationException;

/**
 * Sampling stopped before its last step because the caller cancelled it or interrupted the thread
 * (the interrupt flag is left set). The partial state has been freed. Thrown on the sampling
 * thread; immutable.
 */
public final class SamplingCancelledException extends CancellationException {
  private static final long serialVersionUID = 1L;

  private final int completedSteps;
  private final int totalSteps;

  SamplingCancelledException(int completedSteps, int totalSteps, boolean interrupted) {
    super(
        "sampling "
            + (interrupted ? "interrupted" : "cancelled")
            + " after "
            + completedSteps
            + " of "
            + totalSteps
            + " steps");
    this.completedSteps = completedSteps;
    this.totalSteps = totalSteps;
  }

  /** Steps finished before the stop. */
  public int completedSteps() {
    return completedSteps;
  }

  /** Steps the run would have taken. */
  public int totalSteps() {
    return totalSteps;
  }
}
