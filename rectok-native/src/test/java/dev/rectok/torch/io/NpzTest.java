package dev.rectok.torch.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** NumPy .npz: round trips, the golden ADM-style files (stored and deflated), refusals. */
class NpzTest {
  @Property(tries = 40)
  void doublesAndBytesRoundTrip(
      @ForAll @Size(min = 1, max = 50) double[] v,
      @ForAll @IntRange(min = 1, max = 7) int n,
      @ForAll boolean compress)
      throws Exception {
    Path tmp = Files.createTempDirectory("rt11");
    try {
      Path f = tmp.resolve("a.npz");
      Files.deleteIfExists(f);
      byte[] img = new byte[n * 2 * 3 * 3];
      for (int i = 0; i < img.length; i++) {
        img[i] = (byte) (i * 31 + n);
      }
      try (Npz.Writer w = Npz.create(f, compress)) {
        w.putDoubles("mu", v, v.length);
        w.beginBytes("arr_0", n, 2, 3, 3);
        for (int i = 0; i < n; i++) {
          w.write(java.util.Arrays.copyOfRange(img, i * 18, (i + 1) * 18));
        }
        w.commit();
      }
      try (Npz.Reader r = Npz.open(f)) {
        assertThat(r.doubles("mu")).containsExactly(v);
        assertThat(r.info("arr_0").shape()).containsExactly(n, 2, 3, 3);
        assertThat(r.info("arr_0").descr()).isEqualTo("|u1");
        try (InputStream in = r.stream("arr_0")) {
          assertThat(in.readAllBytes()).isEqualTo(img);
        }
      }
      try (var s = Files.list(tmp)) {
        assertThat(s.toList()).as("no temporary file left").containsExactly(f);
      }
    } finally {
      TestFiles.deleteTree(tmp);
    }
  }

  @Test
  void anUncommittedWriterLeavesNothing(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("partial.npz");
    try (Npz.Writer w = Npz.create(f, false)) {
      w.beginBytes("arr_0", 10, 4, 4, 3);
      w.write(new byte[48]);
    }
    try (var s = Files.list(tmp)) {
      assertThat(s.toList()).isEmpty();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"ref_batch.npz", "ref_batch_compressed.npz"})
  void theGoldenReferenceBatchesRead(String name) throws Exception {
    try (Npz.Reader r = Npz.open(Golden.dir().resolve("case7_inception_fid").resolve(name))) {
      assertThat(r.arrays().keySet()).contains("arr_0", "mu", "sigma");
      assertThat(r.info("arr_0").shape()).containsExactly(2, 64, 64, 3);
      long d = r.info("mu").shape()[0];
      assertThat(r.info("sigma").shape()).containsExactly(d, d);
      assertThat(r.doubles("sigma")).hasSize((int) (d * d));
    }
  }

  private static byte[] npy(String header) {
    String dict = header;
    int pad = (64 - (10 + dict.length() + 1) % 64) % 64;
    byte[] h = (dict + " ".repeat(pad) + "\n").getBytes(StandardCharsets.ISO_8859_1);
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    o.writeBytes(
        new byte[] {
          (byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) h.length, (byte) (h.length >> 8)
        });
    o.writeBytes(h);
    o.writeBytes(new byte[64]);
    return o.toByteArray();
  }

  private static Path zip(Path f, byte[] entry) throws Exception {
    try (OutputStream os = Files.newOutputStream(f);
        ZipOutputStream z = new ZipOutputStream(os)) {
      z.putNextEntry(new ZipEntry("x.npy"));
      z.write(entry);
      z.closeEntry();
    }
    return f;
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }",
        "{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }",
        "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }",
        "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }",
        "not a dict at all"
      })
  void objectArraysPicklesAndOddLayoutsAreRefused(String header, @TempDir Path tmp)
      throws Exception {
    Path f = zip(tmp.resolve("bad.npz"), npy(header));
    assertThatThrownBy(() -> Npz.open(f).close())
        .isInstanceOf(CheckpointFormatException.class)
        .hasMessageContaining("bad.npz");
  }

  @Test
  void truncatedArraysAndNonZipsAreRefused(@TempDir Path tmp) throws Exception {
    Path f =
        zip(
            tmp.resolve("short.npz"),
            npy("{'descr': '<f8', 'fortran_order': False, 'shape': (100,), }"));
    try (Npz.Reader r = Npz.open(f)) {
      assertThatThrownBy(() -> r.doubles("x"))
          .isInstanceOf(CheckpointFormatException.class)
          .hasMessageContaining("truncated");
      assertThatThrownBy(() -> r.doubles("y"))
          .isInstanceOf(CheckpointFormatException.class)
          .hasMessageContaining("no array 'y'");
    }
    Path text = Files.writeString(tmp.resolve("text.npz"), "hello");
    assertThatThrownBy(() -> Npz.open(text))
        .isInstanceOf(CheckpointFormatException.class)
        .hasMessageContaining("text.npz");
  }

  @Property(tries = 30)
  void float32AndIntegerArraysReadAsDoubles(@ForAll @DoubleRange(min = -1e6, max = 1e6) double x)
      throws Exception {
    Path tmp = Files.createTempDirectory("rt11");
    try {
      java.nio.ByteBuffer bb =
          java.nio.ByteBuffer.allocate(12).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      bb.putFloat((float) x).putLong((long) x);
      byte[] f4 = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }");
      byte[] i8 = npy("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }");
      System.arraycopy(bb.array(), 0, f4, f4.length - 64, 4);
      System.arraycopy(bb.array(), 4, i8, i8.length - 64, 8);
      Path a = zip(tmp.resolve("f4.npz"), f4);
      Path b = zip(tmp.resolve("i8.npz"), i8);
      try (Npz.Reader r = Npz.open(a);
          Npz.Reader s = Npz.open(b)) {
        assertThat(r.doubles("x")).containsExactly((double) (float) x);
        assertThat(s.doubles("x")).containsExactly((double) (long) x);
      }
    } finally {
      TestFiles.deleteTree(tmp);
    }
  }
}
