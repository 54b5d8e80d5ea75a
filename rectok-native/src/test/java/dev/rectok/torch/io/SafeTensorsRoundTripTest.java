package dev.rectok.torch.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rectok.api.DType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** write then open gives back the same tensors and metadata, for every dtype and shape. */
class SafeTensorsRoundTripTest {
  private static Path dir;

  @BeforeContainer
  static void makeDir() throws IOException {
    dir = Files.createTempDirectory("st-roundtrip");
  }

  @AfterContainer
  static void removeDir() throws IOException {
    TestFiles.deleteTree(dir);
  }

  /** A tensor of a random dtype and shape (rank 0 to 4, sizes 0 to 5), random bytes. */
  @Provide
  Arbitrary<HostTensor> tensor() {
    Arbitrary<DType> dtype = Arbitraries.of(DType.class);
    Arbitrary<List<Long>> shape = Arbitraries.longs().between(0, 5).list().ofMaxSize(4);
    Arbitrary<Long> seed = Arbitraries.longs();
    return Combinators.combine(dtype, shape, seed)
        .as(
            (d, s, r) -> {
              long[] sh = s.stream().mapToLong(Long::longValue).toArray();
              byte[] b = new byte[(int) (HostTensor.numel(sh) * d.byteSize())];
              new Random(r).nextBytes(b);
              return new HostTensor(d, sh, MemorySegment.ofArray(b));
            });
  }

  @Provide
  Arbitrary<Map<String, HostTensor>> tensors() {
    // names exercise JSON escaping and non-ASCII; the map keeps the generated order
    Arbitrary<String> name =
        Arbitraries.strings()
            .ofMinLength(0)
            .ofMaxLength(12)
            .withChars("abc.\"\\/ é\u00ff\u4e2d\t0")
            .filter(n -> !n.equals("__metadata__"));
    return Arbitraries.maps(name, tensor()).ofMaxSize(6).map(LinkedHashMap::new);
  }

  @Provide
  Arbitrary<Map<String, String>> metadata() {
    Arbitrary<String> s =
        Arbitraries.strings()
            .withCharRange(' ', '~')
            .withChars("\n\t\u0000é\u4e2d\u00ff")
            .ofMaxLength(10);
    return Arbitraries.maps(s, s).ofMaxSize(3);
  }

  @Property(tries = 200)
  void writeThenOpenIsIdentity(
      @ForAll("tensors") Map<String, HostTensor> tensors,
      @ForAll("metadata") Map<String, String> metadata)
      throws IOException {
    Path p = dir.resolve("rt.safetensors");
    SafeTensors.write(p, tensors, metadata);
    try (SafeTensorsFile f = SafeTensors.open(p)) {
      assertEquals(List.copyOf(tensors.keySet()), f.names());
      assertEquals(metadata, f.metadata());
      for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
        HostTensor got = f.get(e.getKey());
        assertEquals(e.getValue().dtype(), got.dtype());
        assertArrayEquals(e.getValue().shape(), got.shape());
        assertEquals(e.getValue(), got, "bytes");
      }
      long header = f.names().isEmpty() ? -1 : f.info(f.names().getFirst()).bufferStart();
      if (header >= 0) {
        assertEquals(0, header % 8, "data starts 8-byte aligned");
      }
    }
  }
}
