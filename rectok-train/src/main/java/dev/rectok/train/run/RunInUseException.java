package dev.rectok.train.run;

import java.io.IOException;

/** A run folder is locked by another trainer (see {@link RunDirectory}). Immutable, thread-safe. */
public final class RunInUseException extends IOException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message names the folder and the holder
   */
  public RunInUseException(String message) {
    super(message);
  }
}
