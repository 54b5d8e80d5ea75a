package dev.rectok.torch.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Crash-safe file replacement: temp file in the same folder, fsync, atomic rename, fsync folder. A
 * reader (or a process restarted after a crash) sees the old content or the complete new one, never
 * a mix. Stateless and thread-safe; concurrent writers of one target leave the last rename.
 */
public final class AtomicFiles {
  private AtomicFiles() {}

  /**
   * Replaces {@code target} with {@code content} atomically, creating its folder if needed.
   *
   * @throws IOException if writing fails (the target is then untouched) or the file system cannot
   *     rename atomically
   */
  public static void write(Path target, byte[] content) throws IOException {
    Path abs = target.toAbsolutePath();
    Path dir = abs.getParent();
    Files.createDirectories(dir);
    // Not Files.createTempFile: its 0600 mode would survive the rename (issue 10); a file created
    // with CREATE_NEW gets the mode of any new file (the umask), like model files.
    Path tmp = createSibling(dir, abs.getFileName().toString());
    try {
      try (FileChannel ch =
          FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        ByteBuffer buf = ByteBuffer.wrap(content);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
      try {
        Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException(
            "the file system of " + dir + " cannot rename atomically; cannot write " + target, e);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
    // Make the rename itself durable. Not every platform can open a folder for fsync; on those the
    // rename is still atomic, only its durability after a power loss is not guaranteed.
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException | UnsupportedOperationException ignored) {
      // best effort, see above
    }
  }

  /** Creates an empty, uniquely named hidden sibling {@code .NAME.<random>.tmp} in {@code dir}. */
  static Path createSibling(Path dir, String name) throws IOException {
    for (int attempt = 0; ; attempt++) {
      Path tmp =
          dir.resolve(
              "." + name + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
      try {
        FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
        return tmp;
      } catch (FileAlreadyExistsException e) {
        if (attempt >= 100) {
          throw e;
        }
      }
    }
  }
}
