package dev.rectok.torch.io;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * NumPy {@code .npz} files (a zip of {@code .npy} arrays, stored or deflated), as the ADM
 * evaluator's reference batches ({@code arr_0} uint8 N×H×W×3, {@code mu}, {@code sigma}, {@code
 * mu_s}, {@code sigma_s}) and RecTok's {@code adm_in256_stats.npz} use them.
 *
 * <p>Reading accepts {@code .npy} format versions 1, 2 and 3, C order, and little-endian (or
 * byte-sized) numeric dtypes only: {@code b1 i1 u1 i2 u2 i4 u4 i8 u8 f2 f4 f8}. Object arrays,
 * structured dtypes, big-endian data and Fortran order are refused with a {@link
 * CheckpointFormatException} naming the file and the array — nothing is ever unpickled. Large
 * arrays are {@linkplain Reader#stream streamed}; small ones can be read whole. Writing produces
 * version-1 headers and is atomic.
 *
 * <p>{@link Reader} owns an open zip file (close it; reads from several threads are safe since each
 * opens its own entry stream); {@link Writer} is single-threaded and owns its output until {@link
 * Writer#commit}.
 */
public final class Npz {
  private Npz() {}

  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");
  private static final int MAX_HEADER = 1 << 16;

  /**
   * An array's description.
   *
   * @param name the key (the entry name without {@code .npy})
   * @param descr the NumPy dtype string, e.g. {@code <f4} or {@code |u1}
   * @param shape the dimensions
   */
  public record ArrayInfo(String name, String descr, long[] shape) {
    /** Copies the shape. */
    public ArrayInfo {
      shape = shape.clone();
    }

    /** The dimensions (a copy). */
    @Override
    public long[] shape() {
      return shape.clone();
    }

    /** Bytes per element. */
    public int itemSize() {
      return Integer.parseInt(descr.substring(2));
    }

    /** Number of elements. */
    public long numel() {
      long n = 1;
      for (long d : shape) {
        n = Math.multiplyExact(n, d);
      }
      return n;
    }

    @Override
    public String toString() {
      return name + " " + descr + " " + Arrays.toString(shape);
    }
  }

  /** Opens an {@code .npz} for reading. */
  public static Reader open(Path file) throws IOException {
    return new Reader(file);
  }

  /** An open {@code .npz}; see the class comment. */
  public static final class Reader implements AutoCloseable {
    private final Path file;
    private final ZipFile zip;
    private final Map<String, ArrayInfo> arrays = new LinkedHashMap<>();

    private Reader(Path file) throws IOException {
      this.file = file;
      try {
        this.zip = new ZipFile(file.toFile());
      } catch (java.util.zip.ZipException e) {
        throw new CheckpointFormatException(
            file + " is not a NumPy .npz file (not a zip archive: " + e.getMessage() + ")", e);
      }
      boolean ok = false;
      try {
        Enumeration<? extends ZipEntry> en = zip.entries();
        while (en.hasMoreElements()) {
          ZipEntry e = en.nextElement();
          if (e.isDirectory()) {
            continue;
          }
          String n = e.getName();
          if (!n.endsWith(".npy")) {
            throw new CheckpointFormatException(file + ": entry " + n + " is not an .npy array");
          }
          String key = n.substring(0, n.length() - 4);
          try (InputStream in = zip.getInputStream(e)) {
            arrays.put(key, header(in, key));
          }
        }
        ok = true;
      } catch (IOException | RuntimeException e) {
        if (e instanceof CheckpointFormatException c) {
          throw c;
        }
        throw new CheckpointFormatException(file + ": damaged .npz: " + e.getMessage(), e);
      } finally {
        if (!ok) {
          zip.close();
        }
      }
    }

    /** The file. */
    public Path file() {
      return file;
    }

    /** The arrays, in file order. */
    public Map<String, ArrayInfo> arrays() {
      return Collections.unmodifiableMap(arrays);
    }

    /** Whether the file has array {@code name}. */
    public boolean has(String name) {
      return arrays.containsKey(name);
    }

    /** The description of array {@code name}; an exception listing the arrays when absent. */
    public ArrayInfo info(String name) throws CheckpointFormatException {
      ArrayInfo a = arrays.get(name);
      if (a == null) {
        throw new CheckpointFormatException(
            file + " has no array '" + name + "' (it has " + arrays.keySet() + ")");
      }
      return a;
    }

    /**
     * A stream positioned at the first data byte of {@code name} (little-endian, C order); the
     * caller closes it. This is how {@code arr_0} of 50,000 images is read image by image.
     */
    public InputStream stream(String name) throws IOException {
      ArrayInfo a = info(name);
      InputStream in = zip.getInputStream(zip.getEntry(name + ".npy"));
      header(in, name);
      return in;
    }

    /**
     * A numeric array converted to float64 (at most 2^31 − 1 elements; for larger ones use {@link
     * #stream}).
     */
    public double[] doubles(String name) throws IOException {
      ArrayInfo a = info(name);
      long n = a.numel();
      if (n > Integer.MAX_VALUE - 8) {
        throw new CheckpointFormatException(
            file + ": array " + name + " is too large to read whole; stream it");
      }
      int size = a.itemSize();
      double[] out = new double[(int) n];
      try (InputStream in = stream(name)) {
        byte[] buf = new byte[8192 * 8];
        int idx = 0;
        while (idx < n) {
          int want = (int) Math.min(buf.length / size, n - idx) * size;
          readFully(in, buf, want, name);
          ByteBuffer bb = ByteBuffer.wrap(buf, 0, want).order(ByteOrder.LITTLE_ENDIAN);
          for (int k = 0; k < want / size; k++) {
            out[idx++] = element(bb, a.descr());
          }
        }
      }
      return out;
    }

    private ArrayInfo header(InputStream in, String name) throws IOException {
      byte[] magic = new byte[8];
      readFully(in, magic, 8, name);
      if (!Arrays.equals(Arrays.copyOf(magic, 6), MAGIC)) {
        throw new CheckpointFormatException(file + ": array " + name + " is not in .npy format");
      }
      int major = magic[6];
      int hlen;
      if (major == 1) {
        byte[] l = new byte[2];
        readFully(in, l, 2, name);
        hlen = (l[0] & 0xff) | (l[1] & 0xff) << 8;
      } else if (major == 2 || major == 3) {
        byte[] l = new byte[4];
        readFully(in, l, 4, name);
        hlen = ByteBuffer.wrap(l).order(ByteOrder.LITTLE_ENDIAN).getInt();
      } else {
        throw new CheckpointFormatException(
            file + ": array " + name + " has .npy version " + major + " (1 to 3 are read)");
      }
      if (hlen < 0 || hlen > MAX_HEADER) {
        throw new CheckpointFormatException(
            file + ": array " + name + " has a " + hlen + "-byte header");
      }
      byte[] h = new byte[hlen];
      readFully(in, h, hlen, name);
      String text =
          new String(h, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
      return parseHeader(text, name);
    }

    private ArrayInfo parseHeader(String text, String name) throws CheckpointFormatException {
      Matcher d = DESCR.matcher(text);
      Matcher f = FORTRAN.matcher(text);
      Matcher s = SHAPE.matcher(text);
      if (!d.find() || !f.find() || !s.find()) {
        throw new CheckpointFormatException(
            file
                + ": array "
                + name
                + " has an unreadable header "
                + text.strip()
                + " (object arrays, structured dtypes and pickles are refused)");
      }
      String descr = d.group(1);
      if (!descr.matches("(<|\\|)(b1|i1|u1|i2|u2|i4|u4|i8|u8|f2|f4|f8)")
          || (descr.charAt(0) == '|' && descr.charAt(2) != '1')
          || (descr.charAt(0) == '<' && descr.charAt(2) == '1')) {
        throw new CheckpointFormatException(
            file
                + ": array "
                + name
                + " has dtype '"
                + descr
                + "'; only little-endian numeric dtypes are read (object arrays and pickles are refused)");
      }
      if (f.group(1).equals("True")) {
        throw new CheckpointFormatException(
            file + ": array " + name + " is in Fortran order; save it in C order");
      }
      List<Long> dims = new ArrayList<>();
      for (String part : s.group(1).split(",")) {
        String t = part.strip().replace("L", "");
        if (t.isEmpty()) {
          continue;
        }
        long v;
        try {
          v = Long.parseLong(t);
        } catch (NumberFormatException e) {
          throw new CheckpointFormatException(
              file + ": array " + name + " has a malformed shape (" + s.group(1) + ")");
        }
        if (v < 0) {
          throw new CheckpointFormatException(
              file + ": array " + name + " has a negative dimension");
        }
        dims.add(v);
      }
      ArrayInfo a = new ArrayInfo(name, descr, dims.stream().mapToLong(Long::longValue).toArray());
      try {
        Math.multiplyExact(a.numel(), (long) a.itemSize());
      } catch (ArithmeticException e) {
        throw new CheckpointFormatException(file + ": array " + name + " has an overflowing shape");
      }
      return a;
    }

    private void readFully(InputStream in, byte[] buf, int n, String name) throws IOException {
      try {
        new DataInputStream(in).readFully(buf, 0, n);
      } catch (EOFException e) {
        throw new CheckpointFormatException(file + ": array " + name + " is truncated", e);
      }
    }

    @Override
    public void close() throws IOException {
      zip.close();
    }
  }

  static double element(ByteBuffer bb, String descr) {
    return switch (descr.substring(1)) {
      case "b1", "u1" -> bb.get() & 0xff;
      case "i1" -> bb.get();
      case "i2" -> bb.getShort();
      case "u2" -> bb.getShort() & 0xffff;
      case "i4" -> bb.getInt();
      case "u4" -> bb.getInt() & 0xffffffffL;
      case "i8" -> bb.getLong();
      case "u8" -> {
        long v = bb.getLong();
        yield v >= 0 ? v : (double) (v >>> 1) * 2.0 + (v & 1);
      }
      case "f2" -> Float.float16ToFloat(bb.getShort());
      case "f4" -> bb.getFloat();
      case "f8" -> bb.getDouble();
      default -> throw new IllegalStateException(descr);
    };
  }

  /**
   * Starts writing an {@code .npz}; nothing appears at {@code file} until {@link Writer#commit}.
   */
  public static Writer create(Path file, boolean compress) throws IOException {
    return new Writer(file, compress);
  }

  /**
   * Writes arrays one after the other into a temporary file next to the target, renamed into place
   * by {@link #commit}; {@link #close} without commit deletes it (nothing partial is left).
   */
  public static final class Writer implements AutoCloseable {
    private final Path file;
    private final Path tmp;
    private final ZipOutputStream zip;
    private boolean committed;
    private long remaining = -1;
    private String current;

    private Writer(Path file, boolean compress) throws IOException {
      this.file = file;
      Path dir = file.toAbsolutePath().getParent();
      this.tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
      this.zip = new ZipOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20));
      zip.setMethod(ZipOutputStream.DEFLATED);
      zip.setLevel(compress ? Deflater.DEFAULT_COMPRESSION : Deflater.NO_COMPRESSION);
    }

    /** Writes a whole float64 array. */
    public void putDoubles(String name, double[] data, long... shape) throws IOException {
      OutputStream out = begin(name, "<f8", shape, 8);
      ByteBuffer bb = ByteBuffer.allocate(8 * 4096).order(ByteOrder.LITTLE_ENDIAN);
      for (double v : data) {
        if (!bb.hasRemaining()) {
          out.write(bb.array(), 0, bb.position());
          bb.clear();
        }
        bb.putDouble(v);
      }
      out.write(bb.array(), 0, bb.position());
      remaining -= (long) data.length * 8;
      end();
    }

    /**
     * Starts a uint8 array of {@code shape} whose bytes the caller then passes to {@link #write}
     * (e.g. one image at a time); it must write exactly the shape's number of bytes.
     */
    public void beginBytes(String name, long... shape) throws IOException {
      begin(name, "|u1", shape, 1);
    }

    /**
     * Starts an array of a little-endian numeric dtype ({@code <f4}, {@code <f8}, {@code <i8}, ...)
     * whose raw little-endian bytes the caller then passes to {@link #write}.
     */
    public void beginArray(String name, String descr, long... shape) throws IOException {
      if (!descr.matches("<(i2|u2|i4|u4|i8|u8|f2|f4|f8)|\\|(u1|i1|b1)")) {
        throw new IllegalArgumentException("unsupported dtype " + descr);
      }
      begin(name, descr, shape, Integer.parseInt(descr.substring(2)));
    }

    /** Appends bytes to the array begun by {@link #beginBytes}. */
    public void write(byte[] bytes) throws IOException {
      if (current == null) {
        throw new IllegalStateException("no array begun");
      }
      if (bytes.length > remaining) {
        throw new IllegalStateException("array " + current + " is longer than its shape");
      }
      zip.write(bytes);
      remaining -= bytes.length;
      if (remaining == 0) {
        end();
      }
    }

    private OutputStream begin(String name, String descr, long[] shape, int itemSize)
        throws IOException {
      if (current != null) {
        throw new IllegalStateException("array " + current + " is not complete");
      }
      long n = itemSize;
      StringBuilder sh = new StringBuilder();
      for (long d : shape) {
        n = Math.multiplyExact(n, d);
        sh.append(d).append(", ");
      }
      String shapeText =
          shape.length == 1
              ? "(" + shape[0] + ",)"
              : "(" + (sh.length() > 0 ? sh.substring(0, sh.length() - 2) : "") + ")";
      String dict =
          "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shapeText + ", }";
      int pre = 10;
      int total = pre + dict.length() + 1;
      int pad = (64 - total % 64) % 64;
      byte[] h = (dict + " ".repeat(pad) + "\n").getBytes(StandardCharsets.ISO_8859_1);
      zip.putNextEntry(new ZipEntry(name + ".npy"));
      zip.write(MAGIC);
      zip.write(new byte[] {1, 0, (byte) h.length, (byte) (h.length >> 8)});
      zip.write(h);
      current = name;
      remaining = n;
      if (n == 0) {
        end();
      }
      return zip;
    }

    private void end() throws IOException {
      if (remaining == 0 && current != null) {
        zip.closeEntry();
        current = null;
      }
    }

    /** Finishes the zip and moves it to the target name. */
    public void commit() throws IOException {
      if (current != null) {
        throw new IllegalStateException("array " + current + " is missing " + remaining + " bytes");
      }
      zip.close();
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      committed = true;
    }

    @Override
    public void close() throws IOException {
      if (!committed) {
        try {
          zip.close();
        } catch (IOException ignored) {
          // the temporary file is deleted anyway
        }
        Files.deleteIfExists(tmp);
      }
    }
  }
}
