package dev.rectok.torch.io;

import java.io.IOException;

/**
 * A checkpoint or tensor file is malformed, truncated, or asks for something we refuse to do (an
 * unsafe pickle global). Checked: callers decide how to report a bad file. The message names the
 * file and the reason.
 *
 * <p>Immutable; safe to pass between threads.
 */
public class CheckpointFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  public CheckpointFormatException(String message) {
    super(message);
  }

  public CheckpointFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
