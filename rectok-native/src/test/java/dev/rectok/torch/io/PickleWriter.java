package dev.rectok.torch.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Emits pickle opcodes by hand, and wraps pickles into torch.save-style zips, for tests. */
final class PickleWriter {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  PickleWriter raw(int... bytes) {
    for (int x : bytes) {
      out.write(x);
    }
    return this;
  }

  PickleWriter proto(int v) {
    return raw(0x80, v);
  }

  PickleWriter global(String module, String name) {
    raw('c');
    out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
    return this;
  }

  PickleWriter stackGlobal(String module, String name) {
    return str(module).str(name).raw(0x93);
  }

  PickleWriter str(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    raw('X');
    le(b.length, 4);
    out.writeBytes(b);
    return this;
  }

  PickleWriter integer(long v) {
    if (v >= 0 && v < 256) {
      return raw('K', (int) v);
    }
    if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
      raw('J');
      le(v, 4);
      return this;
    }
    raw(0x8a, 8);
    le(v, 8);
    return this;
  }

  PickleWriter bool(boolean b) {
    return raw(b ? 0x88 : 0x89);
  }

  PickleWriter none() {
    return raw('N');
  }

  PickleWriter mark() {
    return raw('(');
  }

  PickleWriter tuple() {
    return raw('t');
  }

  PickleWriter longs(long... v) {
    mark();
    for (long x : v) {
      integer(x);
    }
    return tuple();
  }

  PickleWriter emptyDict() {
    return raw('}');
  }

  PickleWriter setitem() {
    return raw('s');
  }

  PickleWriter reduce() {
    return raw('R');
  }

  PickleWriter stop() {
    return raw('.');
  }

  PickleWriter put(int i) {
    return raw('q', i);
  }

  PickleWriter get(int i) {
    return raw('h', i);
  }

  /** The persistent id torch.save writes for a storage, followed by BINPERSID. */
  PickleWriter storage(String type, String key, String location, long numel) {
    return mark()
        .str("storage")
        .global("torch", type)
        .str(key)
        .str(location)
        .integer(numel)
        .tuple()
        .raw('Q');
  }

  /** {@code _rebuild_tensor_v2(storage, offset, size, stride, grad, OrderedDict())}. */
  PickleWriter tensor(
      String type, String key, long numel, long offset, long[] size, long[] stride, boolean grad) {
    global("torch._utils", "_rebuild_tensor_v2").mark();
    storage(type, key, "cpu", numel).integer(offset).longs(size).longs(stride).bool(grad);
    global("collections", "OrderedDict").raw(')').reduce();
    return tuple().reduce();
  }

  byte[] bytes() {
    return out.toByteArray();
  }

  private void le(long v, int n) {
    for (int i = 0; i < n; i++) {
      out.write((int) (v >>> (8 * i)) & 0xff);
    }
  }

  /** Name to bytes for the records of a checkpoint under {@code archive/}. */
  static Map<String, byte[]> records(byte[] pickle) {
    Map<String, byte[]> m = new LinkedHashMap<>();
    m.put("archive/data.pkl", pickle);
    m.put("archive/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
    m.put("archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
    return m;
  }

  /** Writes a zip of STORED records (as torch.save does), or DEFLATED ones if asked. */
  static Path zip(Path file, Map<String, byte[]> records, boolean deflate) {
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
      for (Map.Entry<String, byte[]> r : records.entrySet()) {
        ZipEntry e = new ZipEntry(r.getKey());
        byte[] b = r.getValue();
        if (!deflate) {
          CRC32 crc = new CRC32();
          crc.update(b);
          e.setMethod(ZipEntry.STORED);
          e.setSize(b.length);
          e.setCompressedSize(b.length);
          e.setCrc(crc.getValue());
        }
        z.putNextEntry(e);
        z.write(b);
        z.closeEntry();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }
}
