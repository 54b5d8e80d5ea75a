package dev.rectok.api;

/**
 * Receives progress of long work (training, sampling, dataset passes). The SDK calls it from the
 * thread doing the work; implementations that touch a UI must hand over to their own thread. The
 * CLI renders it as a progress bar; {@link #NONE} ignores it.
 */
public interface Progress {

  /** Ignores all progress. */
  Progress NONE = new Progress() {};

  /**
   * Work named {@code task} with {@code total} units begins ({@code total < 0}: unknown).
   *
   * @param task what is starting
   * @param total units of work, or -1 when unknown
   */
  default void start(String task, long total) {}

  /**
   * {@code done} units of the current task are complete; {@code status} is a short line.
   *
   * @param done units done so far
   * @param status a short status (loss, rate)
   */
  default void update(long done, String status) {}

  /** The current task ended (also after a failure or cancellation). */
  default void end() {}
}
