package dev.rectok.torch.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rectok.api.DType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** SafeTensors format details, API contract and each validation rule. */
class SafeTensorsTest {
  @TempDir Path tmp;

  /** A file as the format describes it: length, header text, then the buffer. */
  static byte[] file(String header, byte[] buffer) {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
    out.writeBytes(h);
    out.writeBytes(buffer);
    return out.toByteArray();
  }

  @Test
  void readsAFileLaidOutByHand() throws IOException {
    byte[] buf =
        ByteBuffer.allocate(16 + 2)
            .order(ByteOrder.LITTLE_ENDIAN)
            .putInt(1)
            .putInt(-2)
            .putInt(3)
            .putInt(Integer.MAX_VALUE)
            .put((byte) 7)
            .put((byte) 1)
            .array();
    String header =
        "{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
            + "\"__metadata__\":{\"format\":\"pt\"},"
            + "\"s\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[16,17]},"
            + "\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[17,17]},"
            + "\"b\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[17,18]}}   ";
    Path p = Files.write(tmp.resolve("hand.safetensors"), file(header, buf));
    try (SafeTensorsFile f = SafeTensors.open(p)) {
      assertEquals(List.of("test", "s", "e", "b"), f.names());
      assertEquals(Map.of("format", "pt"), f.metadata());
      HostTensor t = f.get("test");
      assertEquals(DType.INT32, t.dtype());
      assertArrayEquals(new long[] {2, 2}, t.shape());
      assertEquals(-2, t.data().get(ValueLayout.JAVA_INT_UNALIGNED, 4));
      assertArrayEquals(new long[0], f.get("s").shape());
      assertEquals(7, f.get("s").data().get(ValueLayout.JAVA_BYTE, 0));
      assertEquals(0, f.get("e").data().byteSize());
      TensorInfo info = f.info("b");
      assertEquals(17, info.begin());
      assertEquals(8 + header.length() + 17, info.fileOffset());
      assertTrue(f.get("test").data().isReadOnly(), "slices of a read-only mapping");
      assertEquals(p, f.path());
    }
  }

  @Test
  void writeLayoutIsAlignedOrderedAndCarriesMetadata() throws IOException {
    Map<String, HostTensor> m = new LinkedHashMap<>();
    m.put(
        "z",
        new HostTensor(
            DType.FLOAT32, new long[] {2}, MemorySegment.ofArray(new float[] {1.5f, -2f})));
    m.put(
        "a",
        new HostTensor(DType.INT8, new long[] {3}, MemorySegment.ofArray(new byte[] {1, 2, 3})));
    m.put(
        "q\"\\é",
        new HostTensor(DType.INT64, new long[] {}, MemorySegment.ofArray(new long[] {42})));
    Path p = tmp.resolve("out.safetensors");
    SafeTensors.write(p, m, Map.of("k", "v"));
    byte[] bytes = Files.readAllBytes(p);
    long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertEquals(0, n % 8, "header padded to 8 bytes");
    String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
    assertTrue(header.startsWith("{\"__metadata__\":{\"k\":\"v\"},\"z\":"), header);
    assertTrue(header.stripTrailing().endsWith("}"));
    assertEquals(8 + n + 8 + 3 + 8, bytes.length);
    try (SafeTensorsFile f = SafeTensors.open(p)) {
      assertEquals(List.of("z", "a", "q\"\\é"), f.names());
      assertEquals(m, f.all());
      assertEquals(Map.of("k", "v"), f.metadata());
    }
    SafeTensors.write(p, m, Map.of());
    try (SafeTensorsFile f = SafeTensors.open(p)) {
      assertTrue(f.metadata().isEmpty());
      assertFalse(
          new String(Files.readAllBytes(p), StandardCharsets.UTF_8).contains("__metadata__"));
    }
    SafeTensors.write(p, Map.of(), null);
    try (SafeTensorsFile f = SafeTensors.open(p)) {
      assertTrue(f.names().isEmpty());
    }
    try (Stream<Path> s = Files.list(tmp)) {
      assertEquals(List.of(p), s.toList(), "no temporary files left behind");
    }
    // the rename must not leave a temp file's private mode behind
    Path plain = Files.write(tmp.resolve("plain"), new byte[1]);
    assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(p));
  }

  @Test
  void writeIsAtomicAndOpenMappingsSurviveAReplace() throws IOException {
    Path p = tmp.resolve("x.safetensors");
    HostTensor one =
        new HostTensor(DType.FLOAT64, new long[] {1}, MemorySegment.ofArray(new double[] {1.0}));
    HostTensor two =
        new HostTensor(DType.FLOAT64, new long[] {1}, MemorySegment.ofArray(new double[] {2.0}));
    SafeTensors.write(p, Map.of("w", one), null);
    try (SafeTensorsFile old = SafeTensors.open(p)) {
      SafeTensors.write(p, Map.of("w", two), null);
      assertEquals(one, old.get("w"), "the old mapping still sees the old file");
      try (SafeTensorsFile fresh = SafeTensors.open(p)) {
        assertEquals(two, fresh.get("w"));
      }
      // writing from a mapped file into the same path (a copy-on-save) works
      SafeTensors.write(p, old.all(), Map.of("copy", "yes"));
    }
    try (SafeTensorsFile f = SafeTensors.open(p)) {
      assertEquals(one, f.get("w"));
    }
    assertThrows(
        IOException.class,
        () -> SafeTensors.write(tmp.resolve("no/such/dir/y.safetensors"), Map.of("w", one), null));
    assertThrows(
        IllegalArgumentException.class,
        () -> SafeTensors.write(tmp.resolve("z.safetensors"), Map.of("__metadata__", one), null));
    try (Stream<Path> s = Files.list(tmp)) {
      assertEquals(List.of(p), s.toList());
    }
  }

  @Test
  void nativeSegmentsAreWrittenToo() throws IOException {
    Path p = tmp.resolve("n.safetensors");
    try (Arena a = Arena.ofConfined()) {
      MemorySegment s = a.allocate(3 * 5 * 2);
      for (int i = 0; i < 15; i++) {
        s.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) (i * 7));
      }
      HostTensor t = new HostTensor(DType.BFLOAT16, new long[] {3, 5}, s);
      SafeTensors.write(p, Map.of("bf", t), null);
      try (SafeTensorsFile f = SafeTensors.open(p)) {
        assertEquals(t, f.get("bf"));
      }
    }
  }

  @Test
  void contractUnknownNamesCloseAndConcurrentReads() throws Exception {
    Map<String, HostTensor> m = new LinkedHashMap<>();
    for (int i = 0; i < 16; i++) {
      float[] v = new float[1000];
      java.util.Arrays.fill(v, i);
      m.put("t" + i, new HostTensor(DType.FLOAT32, new long[] {10, 100}, MemorySegment.ofArray(v)));
    }
    Path p = tmp.resolve("c.safetensors");
    SafeTensors.write(p, m, null);
    SafeTensorsFile f = SafeTensors.open(p);
    var e = assertThrows(IllegalArgumentException.class, () -> f.get("nope"));
    assertTrue(e.getMessage().contains("nope") && e.getMessage().contains(p.toString()));
    assertThrows(IllegalArgumentException.class, () -> f.info("nope"));
    ExecutorService ex = Executors.newFixedThreadPool(4);
    try {
      List<Future<Double>> sums = new ArrayList<>();
      for (int k = 0; k < 8; k++) {
        sums.add(
            ex.submit(
                () -> {
                  double s = 0;
                  for (HostTensor t : f.all().values()) {
                    for (long i = 0; i < t.numel(); i++) {
                      s += t.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
                    }
                  }
                  return s;
                }));
      }
      for (Future<Double> s : sums) {
        assertEquals(1000.0 * (15 * 16 / 2), s.get());
      }
    } finally {
      ex.shutdown();
    }
    HostTensor kept = f.get("t3");
    f.close();
    f.close();
    assertThrows(IllegalStateException.class, () -> f.get("t3"));
    assertThrows(
        IllegalStateException.class,
        () -> kept.data().get(ValueLayout.JAVA_BYTE, 0),
        "slices die with close");
  }

  static Stream<Arguments> badHeaders() {
    String ok = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
    return Stream.of(
        Arguments.of("{" + ok + "," + ok + "}", 8, "Duplicate"),
        Arguments.of("[1,2]", 0, "header does not start with '{'"),
        Arguments.of("{\"a\":[]}", 0, "is not an object"),
        Arguments.of("{" + ok + "} x", 8, "not valid JSON"),
        Arguments.of("{" + ok + "", 8, "not valid JSON"),
        Arguments.of("{" + ok + "}", 12, "trailing data"),
        Arguments.of("{" + ok + "}", 4, "run past"),
        Arguments.of(
            "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}",
            2,
            "unsupported dtype 'F8_E4M3'"),
        Arguments.of(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "negative"),
        Arguments.of(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]}}",
            8,
            "not an integer"),
        Arguments.of(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}",
            8,
            "not an integer"),
        Arguments.of(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],"
                + "\"data_offsets\":[0,8]}}",
            8,
            "overflows"),
        Arguments.of(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],"
                + "\"data_offsets\":[0,8]}}",
            8,
            "fits in 64 bits"),
        Arguments.of(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
            8,
            "needs 12 bytes"),
        Arguments.of(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}",
            8,
            "end before begin"),
        Arguments.of(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, "data_offsets"),
        Arguments.of("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "data_offsets"),
        Arguments.of("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "dtype"),
        Arguments.of("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, "shape"),
        Arguments.of(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}",
            8,
            "unknown field 'x'"),
        Arguments.of(
            "{" + ok + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
            12,
            "overlaps"),
        Arguments.of(
            "{" + ok + ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}",
            16,
            "hole"),
        Arguments.of("{\"__metadata__\":{\"k\":1}}", 0, "is not a string"),
        Arguments.of("{\"__metadata__\":[]}", 0, "__metadata__ is not an object"),
        Arguments.of(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":" + "[".repeat(20) + "1" + "]".repeat(20) + "}}",
            0,
            "not valid JSON"),
        Arguments.of("", 0, "header does not start"));
  }

  @ParameterizedTest
  @MethodSource("badHeaders")
  void eachValidationRuleFailsWithAClearMessage(String header, int buffer, String expected)
      throws IOException {
    Path p = Files.write(tmp.resolve("bad.safetensors"), file(header, new byte[buffer]));
    var e = assertThrows(CheckpointFormatException.class, () -> SafeTensors.open(p));
    assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }

  @Test
  void badLengthFieldsAndTinyFiles() throws IOException {
    Path p = tmp.resolve("len.safetensors");
    for (long n : new long[] {-1, Long.MIN_VALUE, 1L << 40, 200L << 20, 100}) {
      byte[] b = file("{}", new byte[0]);
      ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, n);
      Files.write(p, b);
      var e = assertThrows(CheckpointFormatException.class, () -> SafeTensors.open(p));
      assertTrue(e.getMessage().contains("header length"), e.getMessage());
    }
    for (int size = 0; size < 8; size++) {
      Files.write(p, new byte[size]);
      var e = assertThrows(CheckpointFormatException.class, () -> SafeTensors.open(p));
      assertTrue(e.getMessage().contains("fewer than"), e.getMessage());
    }
    byte[] b = file("{}", new byte[0]);
    b = java.util.Arrays.copyOf(b, b.length + 1);
    b[b.length - 1] = (byte) 0xff; // not UTF-8 inside the header
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 3);
    Files.write(p, b);
    var e = assertThrows(CheckpointFormatException.class, () -> SafeTensors.open(p));
    assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
  }
}
