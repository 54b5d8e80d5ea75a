package dev.rectok.torch.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rectok.api.DType;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** PthReader on generated fixtures, hand-made pickles and malicious ones. */
class PthReaderTest {
  @TempDir Path tmp;

  private static final ValueLayout.OfFloat F32 =
      ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfLong I64 =
      ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private Path fixture(String name) throws IOException {
    Path p = tmp.resolve(name);
    try (InputStream in = PthReaderTest.class.getResourceAsStream(name)) {
      Files.copy(in, p);
    }
    return p;
  }

  private static float[] floats(HostTensor h) {
    float[] f = new float[(int) h.numel()];
    for (int i = 0; i < f.length; i++) {
      f[i] = h.data().get(F32, 4L * i);
    }
    return f;
  }

  private static long[] int64s(HostTensor h) {
    long[] f = new long[(int) h.numel()];
    for (int i = 0; i < f.length; i++) {
      f[i] = h.data().get(I64, 8L * i);
    }
    return f;
  }

  private static float[] range(int from, int to) {
    float[] f = new float[to - from];
    for (int i = 0; i < f.length; i++) {
      f[i] = from + i;
    }
    return f;
  }

  @ParameterizedTest
  @ValueSource(strings = {"fixture_p2.pth", "fixture_p5.pth"})
  void readsTorchShapedPickles(String name) throws IOException {
    try (PthCheckpoint ck = PthReader.read(fixture(name))) {
      assertEquals(
          List.of(
              "model",
              "model_ema",
              "epoch",
              "lr",
              "big",
              "neg",
              "flags",
              "name",
              "nested",
              "raw",
              "dtype"),
          List.copyOf(ck.topLevelKeys()));
      Map<?, ?> root = (Map<?, ?>) ck.root();
      assertEquals(7L, root.get("epoch"));
      assertEquals(0.25, root.get("lr"));
      assertEquals(BigInteger.TWO.pow(70), root.get("big"));
      assertEquals(-123456789012L, root.get("neg"));
      assertEquals(java.util.Arrays.asList(true, false, null), root.get("flags"));
      assertThrows(
          UnsupportedOperationException.class,
          () -> ((List<?>) root.get("flags")).add(null),
          "tuples are immutable");
      assertEquals("héllo", root.get("name"));
      assertArrayEquals(new byte[] {0, 1}, (byte[]) root.get("raw"));
      assertEquals(DType.BFLOAT16, root.get("dtype"));
      Map<?, ?> nested = (Map<?, ?>) root.get("nested");
      assertEquals(List.of(1L, 2.5, List.of(3L, "x")), nested.get("list"));
      assertEquals(Map.of(), nested.get("empty"));
      assertEquals(List.of(1L), nested.get("t"));
      assertEquals("int key", nested.get(5L));

      Map<String, PthTensor> m = ck.tensors("model");
      assertEquals(
          List.of("a", "a_t", "tail", "col", "scalar", "empty", "ints", "mask", "bf", "bcast"),
          List.copyOf(m.keySet()));
      PthTensor a = m.get("a");
      assertEquals(DType.FLOAT32, a.dtype());
      assertArrayEquals(new long[] {3, 4}, a.shape());
      assertTrue(a.isContiguous());
      assertFalse(a.isParameter());
      assertEquals("cpu", a.location());
      assertArrayEquals(range(0, 12), floats(a.toHost()));

      PthTensor at = m.get("a_t");
      assertFalse(at.isContiguous());
      assertArrayEquals(new long[] {1, 4}, at.stride());
      float[] expectT = new float[12];
      for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 3; j++) {
          expectT[i * 3 + j] = j * 4 + i;
        }
      }
      assertArrayEquals(expectT, floats(at.toHost()));
      assertEquals(4, m.get("tail").storageOffset());
      assertArrayEquals(range(4, 12), floats(m.get("tail").toHost()));
      assertArrayEquals(new float[] {1, 5, 9}, floats(m.get("col").toHost()));
      HostTensor scalar = m.get("scalar").toHost();
      assertArrayEquals(new long[0], scalar.shape());
      assertArrayEquals(new float[] {11}, floats(scalar));
      assertEquals(0, m.get("empty").toHost().data().byteSize());
      assertArrayEquals(new long[] {0, 5}, m.get("empty").shape());
      assertArrayEquals(
          new long[] {10, -20, 30, 1L << 40, -(1L << 62)}, int64s(m.get("ints").toHost()));
      assertEquals("cuda:0", m.get("ints").location());
      assertEquals(DType.BOOL, m.get("mask").dtype());
      assertArrayEquals(
          new byte[] {1, 0, 0, 1}, m.get("mask").toHost().data().toArray(ValueLayout.JAVA_BYTE));
      assertEquals(DType.BFLOAT16, m.get("bf").dtype());
      assertArrayEquals(
          new byte[] {(byte) 0x80, 0x3F, 0x00, (byte) 0xC0, 0x00, 0x3F},
          m.get("bf").toHost().data().toArray(ValueLayout.JAVA_BYTE));
      assertArrayEquals(new float[] {2, 3, 4, 2, 3, 4}, floats(m.get("bcast").toHost()));

      Map<String, PthTensor> ema = ck.tensors("model_ema");
      PthTensor p = ema.get("p");
      assertTrue(p.isParameter());
      assertTrue(p.requiresGrad());
      assertEquals(a.storageKey(), p.storageKey(), "parameter shares the model's storage");
      assertEquals(a.toHost(), p.toHost());
      PthTensor frozen = ema.get("frozen");
      assertTrue(frozen.isParameter());
      assertFalse(frozen.requiresGrad());
      assertArrayEquals(new long[] {-20, 30}, int64s(frozen.toHost()));
      assertTrue(ema.get("typed").isParameter(), "_rebuild_from_type_v2 to Parameter");
      assertArrayEquals(range(8, 12), floats(ema.get("typed").toHost()));
      assertFalse(ema.get("plain").isParameter());
      assertArrayEquals(range(0, 2), floats(ema.get("plain").toHost()));
    }
  }

  @Test
  void toHostIntoCallerArenaAndClose() throws IOException {
    PthCheckpoint ck = PthReader.read(fixture("fixture_p2.pth"));
    PthTensor at = ck.tensors("model").get("a_t");
    try (Arena mine = Arena.ofConfined()) {
      HostTensor h = at.toHost(mine);
      assertEquals(48, h.data().byteSize());
      ck.close();
      ck.close(); // idempotent
      assertEquals(4f, h.data().get(F32, 4), "caller-owned copy survives the checkpoint");
    }
    assertThrows(IllegalStateException.class, at::toHost);
  }

  @Test
  void pythonsOwnExploitIsRefusedAndNothingRuns() throws IOException {
    Path marker = Path.of("rectok_pwned_marker");
    var e =
        assertThrows(CheckpointFormatException.class, () -> PthReader.read(fixture("evil.pth")));
    assertTrue(e.getMessage().contains("refusing to unpickle global posix.system"), e.getMessage());
    assertFalse(Files.exists(marker));
  }

  @ParameterizedTest
  @CsvSource({
    "os,system,false",
    "os,system,true",
    "posix,system,false",
    "posix,system,true",
    "builtins,eval,false",
    "builtins,eval,true",
    "builtins,exec,true",
    "subprocess,Popen,false",
    "subprocess,Popen,true",
    "builtins,getattr,false",
    "builtins,getattr,true",
    "nt,system,false",
    "torch,load,false",
    "torch._utils,os,true",
    "collections,defaultdict,false",
    "torch.serialization,_get_layout,true"
  })
  void maliciousGlobalsAreRefusedBeforeAnythingRuns(String module, String name, boolean stack)
      throws IOException {
    Path marker = tmp.resolve("pwned");
    PickleWriter w = new PickleWriter().proto(stack ? 4 : 2);
    if (stack) {
      w.stackGlobal(module, name);
    } else {
      w.global(module, name);
    }
    w.str("touch " + marker).raw(0x85).reduce().stop();
    Path f = PickleWriter.zip(tmp.resolve("evil.pth"), PickleWriter.records(w.bytes()), false);
    var e = assertThrows(CheckpointFormatException.class, () -> PthReader.read(f));
    assertTrue(
        e.getMessage().contains("refusing to unpickle global " + module + "." + name),
        e.getMessage());
    assertTrue(e.getMessage().startsWith(f.toString()), "names the file: " + e.getMessage());
    assertFalse(Files.exists(marker), "nothing may run");
  }

  @Test
  void getattrChainThroughAllowedGlobalIsRefused() throws IOException {
    // builtins.getattr(torch._utils._rebuild_tensor_v2, '__globals__') style gadgets need a
    // non-allow-listed global; calling an allowed class that is not callable here fails too.
    PickleWriter w =
        new PickleWriter()
            .proto(2)
            .global("torch", "FloatStorage")
            .str("x")
            .raw(0x85)
            .reduce()
            .stop();
    var e =
        assertThrows(
            CheckpointFormatException.class,
            () ->
                PthReader.read(
                    PickleWriter.zip(
                        tmp.resolve("g.pth"), PickleWriter.records(w.bytes()), false)));
    assertTrue(e.getMessage().contains("torch.FloatStorage"), e.getMessage());
  }

  /** A plain dict (not OrderedDict) root with a tensor, a parameter, a view with an offset. */
  @Test
  void handMadePlainDictWithViewsAndParameter() throws IOException {
    PickleWriter w = new PickleWriter().proto(2).emptyDict().mark();
    w.str("w").tensor("FloatStorage", "0", 6, 0, new long[] {2, 3}, new long[] {3, 1}, false);
    w.str("wt").tensor("FloatStorage", "0", 6, 0, new long[] {3, 2}, new long[] {1, 3}, false);
    w.str("off").tensor("FloatStorage", "0", 6, 1, new long[] {2, 2}, new long[] {3, 1}, false);
    w.str("param")
        .global("torch._utils", "_rebuild_parameter")
        .mark()
        .tensor("FloatStorage", "0", 6, 3, new long[] {3}, new long[] {1}, true)
        .bool(true)
        .global("collections", "OrderedDict")
        .raw(')')
        .reduce()
        .tuple()
        .reduce();
    w.str("meta")
        .emptyDict()
        .mark()
        .str("step")
        .integer(-5)
        .str("ratio")
        .raw('G')
        .raw(0x3f, 0xe0, 0, 0, 0, 0, 0, 0)
        .str("pair")
        .integer(300)
        .integer(70000)
        .raw(0x86)
        .str("none")
        .none()
        .str("yes")
        .bool(true)
        .raw('u');
    w.raw('u').stop();
    Map<String, byte[]> rec = PickleWriter.records(w.bytes());
    MemorySegment data = MemorySegment.ofArray(new float[] {0, 1, 2, 3, 4, 5});
    rec.put("archive/data/0", data.toArray(ValueLayout.JAVA_BYTE));
    Path f = PickleWriter.zip(tmp.resolve("plain.pth"), rec, false);
    assertEquals(ByteOrder.LITTLE_ENDIAN, ByteOrder.nativeOrder(), "test assumes an LE host");
    try (PthCheckpoint ck = PthReader.read(f)) {
      Map<String, PthTensor> t = ck.tensors();
      assertEquals(Set.of("w", "wt", "off", "param"), t.keySet());
      assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, floats(t.get("w").toHost()));
      assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, floats(t.get("wt").toHost()));
      assertArrayEquals(new float[] {1, 2, 4, 5}, floats(t.get("off").toHost()));
      assertTrue(t.get("param").isParameter());
      assertTrue(t.get("param").requiresGrad());
      assertArrayEquals(new float[] {3, 4, 5}, floats(t.get("param").toHost()));
      Map<?, ?> meta = (Map<?, ?>) ((Map<?, ?>) ck.root()).get("meta");
      assertEquals(-5L, meta.get("step"));
      assertEquals(0.5, meta.get("ratio"));
      assertEquals(List.of(300L, 70000L), meta.get("pair"));
      assertTrue(meta.containsKey("none"));
      assertNull(meta.get("none"));
      assertEquals(true, meta.get("yes"));
      assertThrows(IllegalArgumentException.class, () -> ck.tensors("nope"));
      assertThrows(IllegalArgumentException.class, () -> ck.tensors("meta", "step"));
    }
  }

  private Path single(PickleWriter w, Map<String, byte[]> extra) {
    Map<String, byte[]> rec = PickleWriter.records(w.bytes());
    rec.putAll(extra);
    return PickleWriter.zip(tmp.resolve("t" + System.nanoTime() + ".pth"), rec, false);
  }

  private void refused(Path f, String expected) {
    var e = assertThrows(CheckpointFormatException.class, () -> PthReader.read(f));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
    assertTrue(e.getMessage().contains(f.getFileName().toString()), e.getMessage());
  }

  private static PickleWriter oneTensor(long numel, long offset, long[] size, long[] stride) {
    PickleWriter w = new PickleWriter().proto(2).emptyDict().str("x");
    return w.tensor("FloatStorage", "0", numel, offset, size, stride, false).setitem().stop();
  }

  @Test
  void viewsOutsideTheirStorageAreRefused() {
    Map<String, byte[]> s = Map.of("archive/data/0", new byte[24]);
    refused(single(oneTensor(6, 0, new long[] {2, 4}, new long[] {4, 1}), s), "needs 32 bytes");
    refused(single(oneTensor(6, 5, new long[] {2}, new long[] {1}), s), "needs 28 bytes");
    refused(single(oneTensor(6, 0, new long[] {3, 3}, new long[] {1, 3}), s), "needs 36 bytes");
    refused(single(oneTensor(6, 0, new long[] {2}, new long[] {-1}), s), "negative");
    refused(single(oneTensor(6, -1, new long[] {2}, new long[] {1}), s), "negative");
    refused(single(oneTensor(6, 0, new long[] {2}, new long[] {1, 1}), s), "rank");
    refused(
        single(oneTensor(6, 0, new long[] {Long.MAX_VALUE / 2, 4}, new long[] {4, 1}), s),
        "overflows");
    refused(
        single(oneTensor(6, 0, new long[] {1L << 20, 1L << 20}, new long[] {0, 0}), s), "expand");
    refused(single(oneTensor(7, 0, new long[] {2}, new long[] {1}), s), "expects 28");
    refused(single(oneTensor(6, 0, new long[] {2}, new long[] {1}), Map.of()), "missing");
    refused(
        single(oneTensor(Long.MAX_VALUE / 2, 0, new long[] {2}, new long[] {1}), s), "overflows");
  }

  @Test
  void compressedStorageBigEndianAndOtherContainerProblemsAreRefused() throws IOException {
    byte[] pkl = oneTensor(6, 0, new long[] {6}, new long[] {1}).bytes();
    Map<String, byte[]> rec = PickleWriter.records(pkl);
    rec.put("archive/data/0", new byte[24]);
    refused(PickleWriter.zip(tmp.resolve("deflated.pth"), rec, true), "compressed");
    rec.put("archive/byteorder", "big".getBytes(StandardCharsets.US_ASCII));
    refused(PickleWriter.zip(tmp.resolve("big.pth"), rec, false), "big-endian");
    rec.put("archive/byteorder", "middle".getBytes(StandardCharsets.US_ASCII));
    refused(PickleWriter.zip(tmp.resolve("mid.pth"), rec, false), "byteorder");
    refused(
        PickleWriter.zip(tmp.resolve("nopkl.pth"), Map.of("archive/x", new byte[1]), false),
        "data.pkl");

    Path legacy = tmp.resolve("legacy.pth");
    Files.write(
        legacy,
        new byte[] {
          (byte) 0x80,
          2,
          (byte) 0x8a,
          0x0a,
          0x6c,
          (byte) 0xfc,
          (byte) 0x9c,
          0x46,
          (byte) 0xf9,
          0x20,
          0x6a,
          (byte) 0xa8,
          0x50,
          0x19,
          0x2e
        });
    refused(legacy, "legacy");
    Path empty = Files.write(tmp.resolve("empty.pth"), new byte[0]);
    refused(empty, "zip");
    Path text = Files.writeString(tmp.resolve("text.pth"), "hello world, not a zip");
    refused(text, "zip");
    Path pk = Files.write(tmp.resolve("pk.pth"), new byte[] {'P', 'K', 3, 4, 0, 0, 0});
    refused(pk, "damaged zip");
    assertThrows(NoSuchFileException.class, () -> PthReader.read(tmp.resolve("absent.pth")));
  }

  @Test
  void malformedPicklesAreRefused() {
    Map<String, byte[]> none = Map.of();
    // self-containing list: cycles would break equals/hashCode/toString
    refused(
        single(new PickleWriter().proto(2).raw(']').put(0).get(0).raw('a').stop(), none), "cycle");
    // deep nesting through memo: a list inside a list ... 1000 deep
    PickleWriter deep = new PickleWriter().proto(2);
    for (int i = 0; i < 1000; i++) {
      deep.raw(']');
    }
    for (int i = 0; i < 999; i++) {
      deep.raw('a');
    }
    refused(single(deep.stop(), none), "nests deeper");
    refused(single(new PickleWriter().proto(2).get(7).stop(), none), "memo entry 7");
    refused(single(new PickleWriter().proto(2).raw('s').stop(), none), "underflow");
    refused(single(new PickleWriter().proto(2).raw('(').raw('t').raw('u').stop(), none), "no MARK");
    refused(single(new PickleWriter().proto(2).raw('i').stop(), none), "opcode 0x69");
    refused(single(new PickleWriter().proto(0).none().stop(), none), "protocol 0");
    refused(single(new PickleWriter().proto(2).none(), none), "truncated");
    refused(
        single(new PickleWriter().proto(2).raw('X', 0xff, 0xff, 0xff, 0x7f).stop(), none),
        "truncated");
    refused(
        single(new PickleWriter().proto(4).raw(0x8d, 0, 0, 0, 0, 0, 0, 0, 0x80), none),
        "runs past the end");
    refused(
        single(new PickleWriter().proto(2).raw('X', 2, 0, 0, 0, 0xc3, 0x28).stop(), none), "UTF-8");
    refused(single(new PickleWriter().proto(2).raw(0x8b, 0, 0, 0, 0x40).stop(), none), "LONG4");
    // a list as a dict key, a bare class as a value, a storage outside a tensor
    refused(
        single(new PickleWriter().proto(2).emptyDict().raw(']').none().setitem().stop(), none),
        "unsupported dict key");
    refused(
        single(new PickleWriter().proto(2).global("torch", "Tensor").stop(), none),
        "unsupported value");
    refused(
        single(
            new PickleWriter().proto(2).storage("FloatStorage", "0", "cpu", 1).stop(),
            Map.of("archive/data/0", new byte[4])),
        "unsupported value");
    // NEWOBJ and BUILD only on OrderedDict / dicts
    refused(
        single(
            new PickleWriter().proto(2).global("torch", "Tensor").raw(')').raw(0x81).stop(), none),
        "NEWOBJ");
    refused(
        single(new PickleWriter().proto(2).raw(']').emptyDict().raw('b').stop(), none), "BUILD");
    // _rebuild_from_type_v2 must wrap a tensor rebuild function
    refused(
        single(
            new PickleWriter()
                .proto(2)
                .global("torch._tensor", "_rebuild_from_type_v2")
                .mark()
                .global("collections", "OrderedDict")
                .global("torch", "Tensor")
                .raw(')')
                .emptyDict()
                .tuple()
                .reduce()
                .stop(),
            none),
        "not a tensor rebuild function");
    // a persistent id that is not a storage tuple
    refused(
        single(new PickleWriter().proto(2).str("module").raw('Q').stop(), none), "persistent id");
  }

  @Test
  void dictKeysAreBoundedAgainstHashFloodingAndDeepTuples() throws IOException {
    // tuple keys are not Comparable, so HashMap cannot treeify colliding ones: capped
    PickleWriter tuples = new PickleWriter().proto(2).emptyDict();
    for (int i = 0; i < 5000; i++) {
      tuples.integer(i).raw(0x85).none().setitem();
    }
    refused(single(tuples.stop(), Map.of()), "mixed or tuple keys");
    PickleWriter deepKey = new PickleWriter().proto(2).emptyDict().integer(1);
    for (int i = 0; i < 6; i++) {
      deepKey.raw(0x85);
    }
    refused(single(deepKey.none().setitem().stop(), Map.of()), "too large a tuple");
    // one comparable key type is fine at any size
    PickleWriter ints = new PickleWriter().proto(2).emptyDict().mark();
    for (int i = 0; i < 20_000; i++) {
      ints.integer(i).bool(i % 2 == 0);
    }
    try (PthCheckpoint ck = PthReader.read(single(ints.raw('u').stop(), Map.of()))) {
      assertEquals(20_000, ((Map<?, ?>) ck.root()).size());
      assertEquals(Set.of(), ck.topLevelKeys());
    }
  }

  @Test
  void newobjOrderedDictAndBuildStateAreAccepted() throws IOException {
    PickleWriter w =
        new PickleWriter()
            .proto(2)
            .global("collections", "OrderedDict")
            .raw(')')
            .raw(0x81)
            .emptyDict()
            .str("_metadata")
            .emptyDict()
            .setitem()
            .raw('b')
            .str("k")
            .integer(1)
            .setitem()
            .stop();
    try (PthCheckpoint ck = PthReader.read(single(w, Map.of()))) {
      assertEquals(Map.of("k", 1L), ck.root());
      assertInstanceOf(java.util.LinkedHashMap.class, ck.root());
    }
  }
}
