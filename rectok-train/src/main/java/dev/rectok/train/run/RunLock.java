package dev.rectok.train.run;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * The exclusive lock of a run folder: an operating-system file lock on {@code run.lock}, held for
 * the life of the {@link RunDirectory} and released by the operating system if the process dies, so
 * a crash never leaves the folder locked. The file records the holder (process id, host, start
 * time) for the message a second trainer gets.
 *
 * <p>Owned by one RunDirectory; {@link #close} is idempotent.
 */
final class RunLock implements AutoCloseable {
  private final FileChannel channel;
  private final FileLock lock;

  private RunLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Takes the lock without waiting.
   *
   * @throws RunInUseException if another process (or another RunDirectory of this process) holds it
   */
  static RunLock acquire(Path file) throws IOException {
    FileChannel ch =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    try {
      FileLock l;
      try {
        l = ch.tryLock();
      } catch (OverlappingFileLockException e) {
        l = null; // held by this JVM
      }
      if (l == null) {
        ByteBuffer b = ByteBuffer.allocate(512);
        ch.read(b, 0);
        String holder = new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).strip();
        throw new RunInUseException(
            file.getParent()
                + " is in use by another trainer ("
                + (holder.isEmpty() ? "holder unknown" : dev.rectok.torch.io.SafeText.of(holder))
                + "); wait for it to finish or stop it, or use another --run folder");
      }
      String host;
      try {
        host = InetAddress.getLocalHost().getHostName();
      } catch (IOException e) {
        host = "unknown host";
      }
      byte[] me =
          ("pid "
                  + ProcessHandle.current().pid()
                  + " on "
                  + host
                  + ", started "
                  + ProcessHandle.current()
                      .info()
                      .startInstant()
                      .map(Instant::toString)
                      .orElse("at an unknown time")
                  + "\n")
              .getBytes(StandardCharsets.UTF_8);
      ch.truncate(0);
      ch.write(ByteBuffer.wrap(me), 0);
      return new RunLock(ch, l);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  @Override
  public void close() throws IOException {
    if (channel.isOpen()) {
      try {
        lock.release();
      } finally {
        channel.close();
      }
    }
  }
}
