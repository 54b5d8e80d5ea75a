package dev.rectok.cli;

import dev.rectok.torch.io.SafeText;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine;

/**
 * The one exit-code scheme of every {@code rectok} command (documented in the README):
 *
 * <ul>
 *   <li>{@value #OK}: success;
 *   <li>{@value #USAGE}: usage error: an unknown or malformed option, or a value outside its range
 *       (picocli's {@link CommandLine.ParameterException}, the message names the option and the
 *       allowed values);
 *   <li>{@value #BAD_INPUT}: bad input: a file that is missing, unreadable, malformed or holds
 *       non-finite values, a value the data refuses, a refusal to overwrite ({@link IOException},
 *       {@link IllegalArgumentException}, {@link ArithmeticException});
 *   <li>{@value #INTERNAL}: anything else, an internal error (a bug to report).
 * </ul>
 *
 * <p>Stateless and thread-safe.
 */
final class ExitCodes {
  /** Success. */
  static final int OK = 0;

  /** An internal error. */
  static final int INTERNAL = 1;

  /** A usage error. */
  static final int USAGE = 2;

  /** Bad input data or files. */
  static final int BAD_INPUT = 3;

  private ExitCodes() {}

  /** The exit code for an exception that ended a command. */
  static int of(Throwable e) {
    Throwable t = unwrap(e);
    if (t instanceof CommandLine.ParameterException) {
      return USAGE;
    }
    if (t instanceof IOException
        || t instanceof IllegalArgumentException
        || t instanceof ArithmeticException) {
      return BAD_INPUT;
    }
    return INTERNAL;
  }

  /**
   * A one-line, terminal-safe sentence for the exception (file-system exceptions say what is
   * wrong).
   */
  static String message(Throwable e) {
    Throwable t = unwrap(e);
    String m;
    if (t instanceof FileSystemException f && f.getReason() == null) {
      String what =
          t instanceof NoSuchFileException
              ? "no such file or folder"
              : t instanceof FileAlreadyExistsException
                  ? "already exists (pass --force to replace it)"
                  : t instanceof AccessDeniedException
                      ? "permission denied"
                      : t.getClass().getSimpleName();
      m = f.getFile() + (f.getOtherFile() != null ? " -> " + f.getOtherFile() : "") + ": " + what;
    } else {
      m = t.getMessage() != null ? t.getMessage() : t.toString();
    }
    if (of(t) == INTERNAL) {
      m =
          "internal error: "
              + t.getClass().getName()
              + ": "
              + m
              + " (rerun with -Drectok.debug=true for the stack trace and report it)";
    }
    return SafeText.message(m);
  }

  private static Throwable unwrap(Throwable e) {
    Throwable t = e;
    while ((t instanceof UncheckedIOException
            || t instanceof ExecutionException
            || t instanceof CommandLine.ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** Installs the mapping on {@code cli}: messages on its error stream, codes by {@link #of}. */
  static void install(CommandLine cli) {
    cli.setExecutionExceptionHandler(
        (ex, cmd, parsed) -> {
          PrintWriter err = cmd.getErr();
          err.println("rectok: " + message(ex));
          if (Boolean.getBoolean("rectok.debug")) {
            ex.printStackTrace(err);
          }
          err.flush();
          return of(ex);
        });
    cli.setExitCodeExceptionMapper(ExitCodes::of);
  }
}
