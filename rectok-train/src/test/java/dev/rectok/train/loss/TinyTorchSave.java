package dev.rectok.train.loss;

import dev.rectok.torch.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Test helper: writes a state dict the way {@code torch.save} lays it out (zip with {@code
 * archive/data.pkl}, {@code archive/byteorder}, {@code archive/data/<key>}; pickle protocol 2 with
 * {@code _rebuild_tensor_v2} and persistent storage ids), optionally nested under one top-level
 * key. Only float32 and int64 tensors.
 */
final class TinyTorchSave {
  private TinyTorchSave() {}

  static void write(Path file, Map<String, Tensor> state, String nestUnder) throws IOException {
    ByteArrayOutputStream pkl = new ByteArrayOutputStream();
    pkl.write(0x80);
    pkl.write(2);
    if (nestUnder != null) {
      pkl.write('}');
      str(pkl, nestUnder);
    }
    pkl.write('}');
    try (Arena arena = Arena.ofConfined();
        ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(file))) {
      int key = 0;
      for (var e : state.entrySet()) {
        Tensor t = e.getValue().contiguous();
        String storage =
            switch (t.dtype()) {
              case FLOAT32 -> "FloatStorage";
              case INT64 -> "LongStorage";
              default -> throw new IllegalArgumentException("dtype " + t.dtype());
            };
        str(pkl, e.getKey());
        pkl.write(("ctorch._utils\n_rebuild_tensor_v2\n").getBytes(StandardCharsets.US_ASCII));
        pkl.write('(');
        pkl.write('(');
        str(pkl, "storage");
        pkl.write(("ctorch\n" + storage + "\n").getBytes(StandardCharsets.US_ASCII));
        str(pkl, Integer.toString(key));
        str(pkl, "cpu");
        integer(pkl, t.numel());
        pkl.write('t');
        pkl.write('Q');
        integer(pkl, 0);
        pkl.write('(');
        for (long d : t.shape()) {
          integer(pkl, d);
        }
        pkl.write('t');
        pkl.write('(');
        for (long s : t.stride()) {
          integer(pkl, s);
        }
        pkl.write('t');
        pkl.write(0x89);
        pkl.write('}');
        pkl.write('t');
        pkl.write('R');
        pkl.write('s');
        stored(zip, "archive/data/" + key, t.toHost(arena).data().toArray(ValueLayout.JAVA_BYTE));
        key++;
      }
      if (nestUnder != null) {
        pkl.write('s');
      }
      pkl.write('.');
      stored(zip, "archive/data.pkl", pkl.toByteArray());
      stored(zip, "archive/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
    }
  }

  /** torch.save writes every record uncompressed. */
  private static void stored(ZipOutputStream zip, String name, byte[] bytes) throws IOException {
    ZipEntry e = new ZipEntry(name);
    e.setMethod(ZipEntry.STORED);
    e.setSize(bytes.length);
    e.setCompressedSize(bytes.length);
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(bytes);
    e.setCrc(crc.getValue());
    zip.putNextEntry(e);
    zip.write(bytes);
    zip.closeEntry();
  }

  private static void str(OutputStream o, String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    o.write('X');
    le32(o, b.length);
    o.write(b);
  }

  private static void integer(OutputStream o, long v) throws IOException {
    o.write('J');
    le32(o, Math.toIntExact(v));
  }

  private static void le32(OutputStream o, int v) throws IOException {
    o.write(v);
    o.write(v >>> 8);
    o.write(v >>> 16);
    o.write(v >>> 24);
  }
}
