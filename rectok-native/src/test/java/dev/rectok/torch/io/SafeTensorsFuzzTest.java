package dev.rectok.torch.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.rectok.api.DType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * Damaged and hostile safetensors files: opening one either succeeds with a consistent result or
 * fails with CheckpointFormatException, quickly, and never with anything else.
 */
class SafeTensorsFuzzTest {
  private static Path dir;
  private static byte[] valid;
  private static int headerEnd;

  @BeforeContainer
  static void setUp() throws IOException {
    dir = Files.createTempDirectory("st-fuzz");
    Map<String, HostTensor> m = new LinkedHashMap<>();
    m.put(
        "w",
        new HostTensor(
            DType.FLOAT32,
            new long[] {2, 3},
            MemorySegment.ofArray(new float[] {1, 2, 3, 4, 5, 6})));
    m.put("s", new HostTensor(DType.INT64, new long[] {}, MemorySegment.ofArray(new long[] {9})));
    m.put(
        "e", new HostTensor(DType.BFLOAT16, new long[] {0, 4}, MemorySegment.ofArray(new byte[0])));
    m.put(
        "b",
        new HostTensor(DType.BOOL, new long[] {3}, MemorySegment.ofArray(new byte[] {1, 0, 1})));
    Path p = dir.resolve("valid.safetensors");
    SafeTensors.write(p, m, Map.of("format", "pt"));
    valid = Files.readAllBytes(p);
    headerEnd = 8 + (int) ByteBuffer.wrap(valid, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
  }

  @AfterContainer
  static void tearDown() throws IOException {
    TestFiles.deleteTree(dir);
  }

  /** Opens and on success reads every byte; anything but success or the format error fails. */
  static boolean openChecked(Path p, String what) {
    long t0 = System.nanoTime();
    try (SafeTensorsFile f = SafeTensors.open(p)) {
      long covered = 0;
      for (String n : f.names()) {
        HostTensor t = f.get(n);
        MemorySegment d = t.data();
        for (long i = 0; i < d.byteSize(); i++) {
          d.get(ValueLayout.JAVA_BYTE, i);
        }
        covered += f.info(n).byteSize();
      }
      assertEquals(
          Files.size(p)
              - (f.names().isEmpty() ? Files.size(p) : f.info(f.names().getFirst()).bufferStart()),
          covered,
          "tiling");
      return true;
    } catch (CheckpointFormatException e) {
      assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
      return false;
    } catch (Throwable t) {
      fail("unexpected " + t + " for " + what, t);
      return false;
    } finally {
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(ms < 2000, "took " + ms + " ms: " + what);
    }
  }

  @Property(tries = 300)
  void mutatedFilesFailCleanly(@ForAll long seed, @ForAll @IntRange(min = 0, max = 6) int kind)
      throws IOException {
    Random r = new Random(seed);
    byte[] b = valid.clone();
    String what;
    switch (kind) {
      case 0 -> { // flip bytes, mostly inside the header
        int flips = 1 + r.nextInt(4);
        for (int i = 0; i < flips; i++) {
          int at = r.nextInt(10) < 8 ? r.nextInt(headerEnd) : r.nextInt(b.length);
          b[at] ^= (byte) (1 << r.nextInt(8));
        }
        what = "flips";
      }
      case 1 -> { // truncate
        b = Arrays.copyOf(b, r.nextInt(b.length));
        what = "truncated to " + b.length;
      }
      case 2 -> { // a random length field
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, r.nextLong() >> r.nextInt(64));
        what = "length field";
      }
      case 3 -> { // overwrite a header byte with a JSON-significant character
        byte[] chars = "{}[],:\"0123456789-.e ".getBytes();
        b[8 + r.nextInt(headerEnd - 8)] = chars[r.nextInt(chars.length)];
        what = "json char";
      }
      case 6 -> { // flip bits in the tensor bytes only: the structure is intact, so the file must
        // read
        int at = headerEnd + r.nextInt(b.length - headerEnd);
        b[at] ^= (byte) (1 << r.nextInt(8));
        what = "data flip";
      }
      case 4 -> { // append or drop data
        b = Arrays.copyOf(b, b.length + (r.nextBoolean() ? 1 + r.nextInt(16) : -1 - r.nextInt(8)));
        what = "resized";
      }
      default -> { // replace a digit in the header with a huge or negative number
        String h = new String(b, 8, headerEnd - 8, java.nio.charset.StandardCharsets.ISO_8859_1);
        String[] subs = {
          "-1",
          "99999999999999999999",
          "9223372036854775807",
          "4294967296",
          "1.5",
          "1e3",
          "null",
          "\"7\""
        };
        int at = -1;
        for (int tries = 0; tries < 50 && at < 0; tries++) {
          int i = r.nextInt(h.length());
          if (Character.isDigit(h.charAt(i))) {
            at = i;
          }
        }
        if (at < 0) {
          at = h.indexOf('0');
        }
        String nh = h.substring(0, at) + subs[r.nextInt(subs.length)] + h.substring(at + 1);
        b = SafeTensorsTest.file(nh, Arrays.copyOfRange(valid, headerEnd, valid.length));
        what = "number " + nh;
      }
    }
    Path p = dir.resolve("m.safetensors");
    Files.write(p, b);
    Statistics.label("outcome").collect(openChecked(p, what) ? "read" : "refused");
    Statistics.label("outcome")
        .coverage(
            c -> {
              c.check("refused").count(n -> n > 0);
              c.check("read").count(n -> n > 0);
            });
  }

  /** Headers assembled from valid and invalid parts: most fail, none may fail badly. */
  @Property(tries = 400)
  void randomHeadersFailCleanly(@ForAll long seed) throws IOException {
    Random r = new Random(seed);
    String[] dtypes = {
      "\"F32\"",
      "\"BF16\"",
      "\"I64\"",
      "\"U8\"",
      "\"BOOL\"",
      "\"F8_E4M3\"",
      "\"f32\"",
      "\"\"",
      "5",
      "null",
      "[]"
    };
    String[] nums = {
      "0",
      "1",
      "2",
      "3",
      "4",
      "8",
      "12",
      "16",
      "-1",
      "-8",
      "4294967296",
      "9223372036854775807",
      "9223372036854775808",
      "1.0",
      "1e2",
      "\"4\"",
      "true",
      "null"
    };
    StringBuilder h = new StringBuilder();
    int shape = r.nextInt(10);
    if (shape == 0) {
      h.append(List.of("[]", "1", "\"x\"", "null", "[{}]").get(r.nextInt(5)));
    } else {
      h.append('{');
      int n = r.nextInt(4);
      List<String> parts = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String name = "\"" + "abc".charAt(r.nextInt(3)) + "\"";
        StringBuilder e = new StringBuilder(name).append(":{");
        List<String> fields = new ArrayList<>();
        if (r.nextInt(8) > 0) {
          fields.add("\"dtype\":" + dtypes[r.nextInt(dtypes.length)]);
        }
        if (r.nextInt(8) > 0) {
          StringBuilder s = new StringBuilder("\"shape\":[");
          int rank = r.nextInt(4);
          for (int k = 0; k < rank; k++) {
            s.append(k > 0 ? "," : "").append(nums[r.nextInt(nums.length)]);
          }
          fields.add(s.append(']').toString());
        }
        if (r.nextInt(8) > 0) {
          int arity = r.nextInt(8) == 0 ? r.nextInt(4) : 2;
          StringBuilder s = new StringBuilder("\"data_offsets\":[");
          for (int k = 0; k < arity; k++) {
            s.append(k > 0 ? "," : "").append(nums[r.nextInt(nums.length)]);
          }
          fields.add(s.append(']').toString());
        }
        if (r.nextInt(10) == 0) {
          fields.add("\"extra\":1");
        }
        e.append(String.join(",", fields)).append('}');
        parts.add(e.toString());
      }
      if (r.nextInt(4) == 0) {
        parts.add(
            r.nextInt(0, parts.size() + 1) == 0 ? 0 : parts.size(),
            "\"__metadata__\":"
                + List.of("{\"k\":\"v\"}", "{\"k\":1}", "[]", "\"s\"", "{}").get(r.nextInt(5)));
      }
      h.append(String.join(",", parts)).append('}');
    }
    if (r.nextInt(6) == 0) {
      h.append(List.of(" ", "   ", "x", "}", "\u0000", "\n{}").get(r.nextInt(6)));
    }
    byte[] buffer = new byte[r.nextInt(5) * 4];
    byte[] file = SafeTensorsTest.file(h.toString(), buffer);
    if (r.nextInt(10) == 0) { // header length beyond the file, or slightly off
      ByteBuffer.wrap(file)
          .order(ByteOrder.LITTLE_ENDIAN)
          .putLong(0, file.length - 8 + 1 + r.nextInt(100));
    }
    Path p = dir.resolve("h.safetensors");
    Files.write(p, file);
    Statistics.label("outcome").collect(openChecked(p, h.toString()) ? "read" : "refused");
    Statistics.label("outcome").coverage(c -> c.check("refused").percentage(x -> x > 50));
  }
}
