package dev.rectok.torch.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Builders of hostile inputs for the tests of issue 10: zip bombs, memo bombs, lying PNG headers.
 */
final class HostileFiles {
  private HostileFiles() {}

  /**
   * A torch.save-style zip whose deflated {@code archive/data.pkl} inflates to {@code zeros} zero
   * bytes.
   */
  static Path pickleBomb(Path file, long zeros) throws IOException {
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
      z.setLevel(Deflater.BEST_COMPRESSION);
      z.putNextEntry(new ZipEntry("archive/data.pkl"));
      byte[] block = new byte[1 << 20];
      for (long done = 0; done < zeros; done += block.length) {
        z.write(block, 0, (int) Math.min(block.length, zeros - done));
      }
      z.closeEntry();
    }
    return file;
  }

  /**
   * A pickle of {@code depth} levels of lists above one empty list, each level holding {@code
   * fanout} memo references to the level below: tree size {@code fanout^depth}, a few bytes per
   * level.
   */
  static byte[] memoBomb(int depth, int fanout) {
    PickleWriter w = new PickleWriter().proto(2).raw(']').put(0);
    for (int level = 1; level <= depth; level++) {
      w.mark();
      for (int k = 0; k < fanout; k++) {
        w.get(level - 1);
      }
      w.raw('l').put(level);
    }
    return w.stop().bytes();
  }

  /** Nodes of {@link #memoBomb}'s result counted as a tree, saturating at Long.MAX_VALUE. */
  static long memoBombTreeSize(int depth, int fanout) {
    long size = 1;
    for (int level = 1; level <= depth; level++) {
      if (size > (Long.MAX_VALUE - 1) / fanout) {
        return Long.MAX_VALUE;
      }
      size = 1 + fanout * size;
    }
    return size;
  }

  /**
   * A PNG whose header declares {@code width} x {@code height} RGB pixels, followed by a small IDAT
   * of {@code idatZeros} deflated zero bytes (far fewer than the header promises).
   */
  static byte[] png(long width, long height, int idatZeros) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
    be32(ihdr, width);
    be32(ihdr, height);
    ihdr.write(new byte[] {8, 2, 0, 0, 0});
    chunk(out, "IHDR", ihdr.toByteArray());
    ByteArrayOutputStream idat = new ByteArrayOutputStream();
    try (DeflaterOutputStream d = new DeflaterOutputStream(idat)) {
      d.write(new byte[idatZeros]);
    }
    chunk(out, "IDAT", idat.toByteArray());
    chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data)
      throws IOException {
    be32(out, data.length);
    byte[] t = type.getBytes(StandardCharsets.US_ASCII);
    out.write(t);
    out.write(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    be32(out, crc.getValue());
  }

  private static void be32(OutputStream out, long v) throws IOException {
    out.write(new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v});
  }
}
