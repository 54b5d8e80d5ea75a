package dev.rectok.torch.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.api.DType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a> format:
 * an 8-byte little-endian header length {@code N}, {@code N} bytes of UTF-8 JSON (an object,
 * right-padded with spaces), then the tensor bytes, little-endian and row-major.
 *
 * <p>{@link #open} memory-maps the file and validates the whole header before handing anything out;
 * a malformed file always fails with a {@link CheckpointFormatException} naming the file and the
 * problem, never with an unchecked exception, and nothing is allocated in proportion to a size
 * field that the file does not back with real bytes. {@link #write} is atomic (temporary file,
 * fsync, rename).
 *
 * <p>Stateless and thread-safe; the returned {@link SafeTensorsFile} owns its mapping.
 */
public final class SafeTensors {
  /** The largest header accepted, as in the reference implementation. */
  public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

  static final String METADATA_KEY = "__metadata__";

  private static final ValueLayout.OfLong U64_LE =
      ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

  // The header nests three levels at most; a low depth cap rejects JSON bombs early.
  private static final JsonMapper MAPPER =
      JsonMapper.builder(
              JsonFactory.builder()
                  .streamReadConstraints(
                      StreamReadConstraints.builder()
                          .maxNestingDepth(16)
                          .maxStringLength((int) MAX_HEADER_BYTES)
                          .maxNumberLength(64)
                          .build())
                  .build())
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  private SafeTensors() {}

  /**
   * Memory-maps and validates a safetensors file.
   *
   * @param path the file
   * @return the open file; the caller owns it and must close it
   * @throws CheckpointFormatException if the file is not valid safetensors (the message names the
   *     file and the problem)
   * @throws IOException if the file cannot be read
   */
  public static SafeTensorsFile open(Path path) throws IOException {
    Objects.requireNonNull(path, "path");
    InputLimits.requireRegularFile(path, "safetensors file");
    Arena arena = Arena.ofShared();
    boolean ok = false;
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < 8) {
        throw bad(path, "file has " + size + " bytes, fewer than the 8-byte header length");
      }
      MemorySegment map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
      long n = map.get(U64_LE, 0);
      if (n < 0 || n > MAX_HEADER_BYTES) {
        // --- issue 10: a .pth given where safetensors is expected is named as such. A zip's or a
        // pickle's first 8 bytes always read as a header length over the limit, so only here.
        byte b0 = map.get(ValueLayout.JAVA_BYTE, 0);
        byte b1 = map.get(ValueLayout.JAVA_BYTE, 1);
        if ((b0 == 'P' && b1 == 'K') || (b0 == (byte) 0x80 && b1 >= 2 && b1 <= 5)) {
          throw bad(
              path,
              "this is a PyTorch checkpoint ("
                  + (b0 == 'P' ? "torch.save zip" : "torch.save pickle")
                  + "), not a safetensors file; convert it with 'rectok convert IN OUT --kind ... --config ...'");
        }
        throw bad(
            path,
            "header length "
                + Long.toUnsignedString(n)
                + " exceeds the "
                + MAX_HEADER_BYTES
                + "-byte limit");
      }
      if (n > size - 8) {
        throw bad(
            path,
            "header length " + n + " exceeds the " + (size - 8) + " bytes after the length field");
      }
      byte[] header = map.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
      long bufferStart = 8 + n;
      long bufferLen = size - bufferStart;
      Header h = parseHeader(path, header, bufferStart, bufferLen);
      SafeTensorsFile f = new SafeTensorsFile(path, arena, map, bufferStart, h.infos, h.metadata);
      ok = true;
      return f;
    } finally {
      if (!ok) {
        arena.close();
      }
    }
  }

  private record Header(LinkedHashMap<String, TensorInfo> infos, Map<String, String> metadata) {}

  private static Header parseHeader(Path path, byte[] bytes, long bufferStart, long bufferLen)
      throws CheckpointFormatException {
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes))
              .toString();
    } catch (CharacterCodingException e) {
      throw bad(path, "header is not valid UTF-8");
    }
    if (text.isEmpty() || text.charAt(0) != '{') {
      throw bad(path, "header does not start with '{'");
    }
    JsonNode root;
    try {
      root = MAPPER.readTree(text);
    } catch (IOException | RuntimeException e) {
      // Jackson's message carries the position and the reason (duplicate key, syntax, ...).
      throw new CheckpointFormatException(
          path + ": header is not valid JSON: " + firstLine(e.getMessage()), e);
    }
    if (root == null || !root.isObject()) {
      throw bad(path, "header is not a JSON object");
    }
    LinkedHashMap<String, TensorInfo> infos = new LinkedHashMap<>();
    Map<String, String> metadata = Map.of();
    for (Map.Entry<String, JsonNode> e : root.properties()) {
      String name = e.getKey();
      JsonNode v = e.getValue();
      if (name.equals(METADATA_KEY)) {
        metadata = parseMetadata(path, v);
      } else {
        infos.put(name, parseEntry(path, name, v, bufferStart, bufferLen));
      }
    }
    checkCoverage(path, infos, bufferLen);
    return new Header(infos, metadata);
  }

  private static Map<String, String> parseMetadata(Path path, JsonNode v)
      throws CheckpointFormatException {
    if (!v.isObject()) {
      throw bad(path, "__metadata__ is not an object");
    }
    LinkedHashMap<String, String> m = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : v.properties()) {
      if (!e.getValue().isTextual()) {
        throw bad(path, "__metadata__ value for '" + e.getKey() + "' is not a string");
      }
      m.put(e.getKey(), e.getValue().textValue());
    }
    return java.util.Collections.unmodifiableMap(m);
  }

  private static TensorInfo parseEntry(
      Path path, String name, JsonNode v, long bufferStart, long bufferLen)
      throws CheckpointFormatException {
    String where = "tensor '" + name + "'";
    if (!v.isObject()) {
      throw bad(path, where + " is not an object");
    }
    for (Map.Entry<String, JsonNode> f : v.properties()) {
      String k = f.getKey();
      if (!k.equals("dtype") && !k.equals("shape") && !k.equals("data_offsets")) {
        throw bad(path, where + " has unknown field '" + k + "'");
      }
    }
    JsonNode dt = v.get("dtype");
    if (dt == null || !dt.isTextual()) {
      throw bad(path, where + " has no string dtype");
    }
    DType dtype;
    try {
      dtype = DType.fromSafetensorsName(dt.textValue());
    } catch (IllegalArgumentException ex) {
      throw bad(path, where + " has unsupported dtype '" + dt.textValue() + "'");
    }
    JsonNode sh = v.get("shape");
    if (sh == null || !sh.isArray()) {
      throw bad(path, where + " has no shape array");
    }
    long[] shape = new long[sh.size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = nonNegativeLong(path, where + " shape[" + i + "]", sh.get(i));
    }
    JsonNode off = v.get("data_offsets");
    if (off == null || !off.isArray() || off.size() != 2) {
      throw bad(path, where + " has no data_offsets [begin, end]");
    }
    long begin = nonNegativeLong(path, where + " data_offsets[0]", off.get(0));
    long end = nonNegativeLong(path, where + " data_offsets[1]", off.get(1));
    if (begin > end) {
      throw bad(path, where + " data_offsets [" + begin + ", " + end + "] end before begin");
    }
    if (end > bufferLen) {
      throw bad(
          path,
          where
              + " data_offsets ["
              + begin
              + ", "
              + end
              + "] run past the "
              + bufferLen
              + "-byte data buffer");
    }
    long expected;
    try {
      expected = Math.multiplyExact(HostTensor.numel(shape), (long) dtype.byteSize());
    } catch (ArithmeticException ex) {
      throw bad(path, where + " shape " + Arrays.toString(shape) + " overflows");
    }
    if (expected != end - begin) {
      throw bad(
          path,
          where
              + " "
              + dtype.safetensorsName()
              + Arrays.toString(shape)
              + " needs "
              + expected
              + " bytes but data_offsets ["
              + begin
              + ", "
              + end
              + "] hold "
              + (end - begin));
    }
    return new TensorInfo(name, dtype, shape, begin, end, bufferStart);
  }

  private static long nonNegativeLong(Path path, String what, JsonNode n)
      throws CheckpointFormatException {
    if (n == null || !n.isIntegralNumber() || !n.canConvertToLong()) {
      throw bad(path, what + " is not an integer that fits in 64 bits: " + n);
    }
    long x = n.longValue();
    if (x < 0) {
      throw bad(path, what + " is negative: " + x);
    }
    return x;
  }

  // The buffer must be tiled exactly: sorted by offsets, each tensor starts where the last ended.
  private static void checkCoverage(Path path, Map<String, TensorInfo> infos, long bufferLen)
      throws CheckpointFormatException {
    List<TensorInfo> sorted = new ArrayList<>(infos.values());
    sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
    long cursor = 0;
    TensorInfo prev = null;
    for (TensorInfo t : sorted) {
      if (t.begin() < cursor) {
        throw bad(
            path,
            "tensor '"
                + t.name()
                + "' ["
                + t.begin()
                + ", "
                + t.end()
                + ") overlaps tensor '"
                + prev.name()
                + "' ["
                + prev.begin()
                + ", "
                + prev.end()
                + ")");
      }
      if (t.begin() > cursor) {
        throw bad(
            path,
            "bytes ["
                + cursor
                + ", "
                + t.begin()
                + ") of the data buffer belong to no tensor (hole before '"
                + t.name()
                + "')");
      }
      cursor = t.end();
      prev = t;
    }
    if (cursor != bufferLen) {
      throw bad(
          path,
          "bytes ["
              + cursor
              + ", "
              + bufferLen
              + ") of the data buffer belong to no tensor (trailing data)");
    }
  }

  /**
   * Writes tensors atomically: a temporary file in the same directory is written, forced to disk
   * and renamed over {@code path}, so readers see either the old file or the complete new one.
   * Entries keep the map's iteration order and are laid out back to back; the header is padded with
   * spaces to a multiple of 8 bytes so the data starts 8-byte aligned. {@code __metadata__} is
   * written when {@code metadata} is non-empty.
   *
   * @param path destination
   * @param tensors name to tensor, in the order to write; the bytes are only read
   * @param metadata string pairs for {@code __metadata__}; {@code null} means none
   * @throws IllegalArgumentException if a name is {@code __metadata__} or the header would exceed
   *     {@link #MAX_HEADER_BYTES}
   * @throws IOException if writing fails (the destination is then untouched)
   */
  public static void write(Path path, Map<String, HostTensor> tensors, Map<String, String> metadata)
      throws IOException {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(tensors, "tensors");
    byte[] header = headerBytes(tensors, metadata == null ? Map.of() : metadata);
    Path abs = path.toAbsolutePath();
    Path dir = abs.getParent();
    if (!Files.isDirectory(dir)) {
      throw new java.nio.file.NoSuchFileException(
          dir.toString(),
          null,
          "the folder for " + abs.getFileName() + " does not exist; create it first");
    }
    Path tmp = createSibling(dir, abs.getFileName().toString());
    boolean ok = false;
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ByteBuffer len = ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        len.putLong(header.length).flip();
        writeFully(ch, len);
        writeFully(ch, ByteBuffer.wrap(header));
        byte[] stage = null;
        for (HostTensor t : tensors.values()) {
          stage = writeSegment(ch, t.data(), stage);
        }
        ch.force(true);
      }
      try {
        Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        // same directory, so this only happens on exotic file systems
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
      }
      ok = true;
      syncDirectory(dir);
    } finally {
      if (!ok) {
        Files.deleteIfExists(tmp);
      }
    }
  }

  // Not Files.createTempFile: its 0600 mode would survive the rename, while CREATE_NEW gives the
  // file the mode any new file gets (umask), like a plain write would.
  private static Path createSibling(Path dir, String name) throws IOException {
    return AtomicFiles.createSibling(dir, name);
  }

  static byte[] headerBytes(Map<String, HostTensor> tensors, Map<String, String> metadata) {
    ObjectNode root = JsonNodeFactory.instance.objectNode();
    if (!metadata.isEmpty()) {
      ObjectNode m = root.putObject(METADATA_KEY);
      metadata.forEach(
          (k, v) ->
              m.put(
                  Objects.requireNonNull(k, "metadata key"),
                  Objects.requireNonNull(v, "metadata value")));
    }
    long offset = 0;
    for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
      String name = Objects.requireNonNull(e.getKey(), "tensor name");
      HostTensor t = Objects.requireNonNull(e.getValue(), "tensor");
      if (name.equals(METADATA_KEY)) {
        throw new IllegalArgumentException("'" + METADATA_KEY + "' cannot name a tensor");
      }
      ObjectNode o = root.putObject(name);
      o.put("dtype", t.dtype().safetensorsName());
      ArrayNode s = o.putArray("shape");
      for (long d : t.shape()) {
        s.add(d);
      }
      long end = offset + t.data().byteSize();
      o.putArray("data_offsets").add(offset).add(end);
      offset = end;
    }
    byte[] json;
    try {
      json = MAPPER.writeValueAsBytes(root);
    } catch (IOException e) {
      throw new IllegalStateException("cannot serialize a JSON tree", e);
    }
    int padded = (json.length + 7) & ~7;
    if (padded > MAX_HEADER_BYTES || padded < 0) {
      throw new IllegalArgumentException(
          "safetensors header of " + json.length + " bytes exceeds " + MAX_HEADER_BYTES);
    }
    byte[] out = Arrays.copyOf(json, padded);
    Arrays.fill(out, json.length, padded, (byte) ' ');
    return out;
  }

  private static final int CHUNK = 1 << 20;

  // Native segments go straight to the channel; heap segments of any array type through a
  // staging byte[] because only byte[]-backed segments can become ByteBuffers.
  private static byte[] writeSegment(FileChannel ch, MemorySegment seg, byte[] stage)
      throws IOException {
    long size = seg.byteSize();
    for (long off = 0; off < size; ) {
      int n = (int) Math.min(seg.isNative() ? (1L << 30) : CHUNK, size - off);
      if (seg.isNative()) {
        writeFully(ch, seg.asSlice(off, n).asByteBuffer());
      } else {
        if (stage == null) {
          stage = new byte[CHUNK];
        }
        MemorySegment.copy(seg, off, MemorySegment.ofArray(stage), 0, n);
        writeFully(ch, ByteBuffer.wrap(stage, 0, n));
      }
      off += n;
    }
    return stage;
  }

  private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  // Makes the rename itself durable; not every platform can open a directory, which is harmless.
  private static void syncDirectory(Path dir) {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException | RuntimeException ignored) {
      // best effort
    }
  }

  private static CheckpointFormatException bad(Path path, String problem) {
    return new CheckpointFormatException(path + ": " + problem);
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "(no detail)";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
