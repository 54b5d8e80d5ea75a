package dev.rectok.torch.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The limits that keep reading a hostile or careless file bounded in time and memory, and the check
 * that an input is a regular file (a FIFO or device would block or never end).
 *
 * <p>Each limit has a default and a system property that overrides it (documented in the README's
 * "Limits and safety" section):
 *
 * <ul>
 *   <li>{@code rectok.io.maxPickleBytes} (default 64 MiB): the decompressed size of a {@code
 *       .pth}'s {@code data.pkl}, counted while inflating, before anything is buffered;
 *   <li>{@code rectok.io.pickleExpansionPerByte} (default 16): the result of a pickle, counted as a
 *       tree (a memo entry referenced twice counts twice), may have at most this many nodes per
 *       byte of pickle plus 65,536, so walking it (printing, converting) is linear in the file.
 * </ul>
 *
 * <p>Stateless and thread-safe; the properties are read on each call.
 */
public final class InputLimits {
  /** Default of {@code rectok.io.maxPickleBytes}. */
  public static final long DEFAULT_MAX_PICKLE_BYTES = 64L << 20;

  /** Default of {@code rectok.io.pickleExpansionPerByte}. */
  public static final long DEFAULT_PICKLE_EXPANSION_PER_BYTE = 16;

  /** Nodes a pickle's tree may always have, whatever its size. */
  public static final long PICKLE_EXPANSION_BASE = 1 << 16;

  private InputLimits() {}

  /** The largest decompressed {@code data.pkl} accepted, in bytes. */
  public static long maxPickleBytes() {
    return Math.min(
        longProperty("rectok.io.maxPickleBytes", DEFAULT_MAX_PICKLE_BYTES), Integer.MAX_VALUE - 8);
  }

  /** The most tree nodes a pickle of {@code pickleBytes} bytes may expand to. */
  public static long maxPickleNodes(long pickleBytes) {
    long per = longProperty("rectok.io.pickleExpansionPerByte", DEFAULT_PICKLE_EXPANSION_PER_BYTE);
    try {
      return Math.addExact(
          PICKLE_EXPANSION_BASE, Math.multiplyExact(per, Math.max(0, pickleBytes)));
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  /**
   * Fails unless {@code path} is an existing regular file (symbolic links followed): a FIFO, a
   * device or a folder given as an input file is refused before it is opened, since opening a FIFO
   * blocks until a writer appears.
   *
   * @param what what the file is for, for the message (e.g. "model file")
   * @throws NoSuchFileException if nothing is there
   * @throws IOException naming the file and what it is instead
   */
  public static void requireRegularFile(Path path, String what) throws IOException {
    if (Files.isRegularFile(path)) {
      return;
    }
    if (!Files.exists(path)) {
      throw new NoSuchFileException(path.toString(), null, what + " not found");
    }
    String kind =
        Files.isDirectory(path) ? "a folder" : "not a regular file (a FIFO, socket or device)";
    throw new IOException(path + ": the " + what + " is " + kind + "; give a regular file");
  }

  private static long longProperty(String name, long dflt) {
    String v = System.getProperty(name);
    if (v == null || v.isBlank()) {
      return dflt;
    }
    try {
      long x = Long.parseLong(v.strip());
      if (x <= 0) {
        throw new NumberFormatException();
      }
      return x;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "system property " + name + " must be a positive integer, got '" + v + "'");
    }
  }
}
