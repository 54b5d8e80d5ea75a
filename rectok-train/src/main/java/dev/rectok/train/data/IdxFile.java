package dev.rectok.train.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * An IDX file (the MNIST / Fashion-MNIST format) of unsigned bytes: big-endian magic {@code 0x0000
 * 08 NDIM}, NDIM big-endian sizes, then the data. Gzipped files are read transparently. Immutable
 * after reading; thread-safe.
 *
 * @param dims sizes, outermost first
 * @param data the bytes, row-major
 */
public record IdxFile(int[] dims, byte[] data) {

  /**
   * Reads {@code path}, validating the header against the actual data; {@code limit} caps the first
   * dimension.
   */
  public static IdxFile read(Path path, int limit) throws IOException {
    if (!Files.isRegularFile(path)) {
      throw new IOException("IDX file not found: " + path);
    }
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(path), 1 << 16);
        InputStream in =
            path.toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw) {
      DataInputStream d = new DataInputStream(in);
      int magic = d.readInt();
      if ((magic >>> 16) != 0 || ((magic >>> 8) & 0xff) != 0x08) {
        throw new IOException(
            path + ": not an unsigned-byte IDX file (magic 0x" + Integer.toHexString(magic) + ")");
      }
      int ndim = magic & 0xff;
      if (ndim < 1 || ndim > 4) {
        throw new IOException(path + ": IDX rank " + ndim + " is outside 1..4");
      }
      int[] dims = new int[ndim];
      long total = 1;
      for (int i = 0; i < ndim; i++) {
        dims[i] = d.readInt();
        if (dims[i] < 0) {
          throw new IOException(path + ": negative IDX size " + dims[i]);
        }
      }
      if (limit >= 0 && limit < dims[0]) {
        dims[0] = limit;
      }
      for (int s : dims) {
        total *= s;
      }
      if (total > Integer.MAX_VALUE - 16) {
        throw new IOException(path + ": IDX data of " + total + " bytes is too large");
      }
      byte[] data = new byte[(int) total];
      try {
        d.readFully(data);
      } catch (EOFException e) {
        throw new IOException(
            path + ": truncated IDX file (header " + Arrays.toString(dims) + ")", e);
      }
      return new IdxFile(dims, data);
    }
  }

  @Override
  public int[] dims() {
    return dims.clone();
  }
}
