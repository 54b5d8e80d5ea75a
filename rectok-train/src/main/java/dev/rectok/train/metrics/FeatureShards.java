package dev.rectok.train.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.io.AtomicFiles;
import dev.rectok.torch.io.CheckpointFormatException;
import dev.rectok.torch.io.Npz;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * A feature set on disk in shards, for linear probing at ImageNet scale: a folder of {@code
 * shard-NNNNN.npz} files ({@code x} float32 rows × D, {@code y} int64 labels) and a {@code
 * manifest.json} written last, so a folder without a manifest is an interrupted extraction and
 * never read as complete. Readers hold one shard in memory at a time. Instances are immutable and
 * thread-safe; the {@link Writer} is not thread-safe.
 */
public final class FeatureShards {
  /** The file that marks a complete cache. */
  public static final String MANIFEST = "manifest.json";

  private static final String FORMAT = "rectok-probe-features";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;
  private final long dim;
  private final long[] rows;
  private final long count;

  private FeatureShards(Path dir, long dim, long[] rows) {
    this.dir = dir;
    this.dim = dim;
    this.rows = rows;
    long c = 0;
    for (long r : rows) {
      c += r;
    }
    this.count = c;
  }

  /** Whether {@code dir} holds a complete cache (its manifest exists). */
  public static boolean isComplete(Path dir) {
    return Files.isRegularFile(dir.resolve(MANIFEST));
  }

  /**
   * Opens a complete cache, validating its manifest and that every shard exists.
   *
   * @throws CheckpointFormatException naming the folder when the manifest is missing or malformed
   */
  public static FeatureShards open(Path dir) throws IOException {
    Path m = dir.resolve(MANIFEST);
    if (!Files.isRegularFile(m)) {
      throw new CheckpointFormatException(
          dir + " has no " + MANIFEST + ": an interrupted feature extraction; delete the folder");
    }
    JsonNode j;
    try {
      j = JSON.readTree(m.toFile());
    } catch (IOException e) {
      throw new CheckpointFormatException(m + " is not JSON; delete " + dir);
    }
    if (j == null
        || !FORMAT.equals(j.path("format").asText())
        || !j.path("dim").canConvertToLong()
        || j.path("dim").asLong() < 1
        || !j.path("rows").isArray()
        || j.path("rows").isEmpty()) {
      throw new CheckpointFormatException(m + " is not a probe feature manifest; delete " + dir);
    }
    long[] rows = new long[j.get("rows").size()];
    for (int i = 0; i < rows.length; i++) {
      JsonNode r = j.get("rows").get(i);
      if (!r.canConvertToLong() || r.asLong() < 1) {
        throw new CheckpointFormatException(m + " lists a shard with no rows; delete " + dir);
      }
      rows[i] = r.asLong();
      if (!Files.isRegularFile(dir.resolve(shardName(i)))) {
        throw new CheckpointFormatException(dir + " lacks " + shardName(i) + "; delete the folder");
      }
    }
    return new FeatureShards(dir, j.get("dim").asLong(), rows);
  }

  /** The feature width D. */
  public long dim() {
    return dim;
  }

  /** Rows in all shards. */
  public long count() {
    return count;
  }

  /** Number of shards. */
  public int shards() {
    return rows.length;
  }

  /** Rows of shard {@code i}. */
  public long rows(int i) {
    return rows[i];
  }

  /**
   * Shard {@code i} as {@code {x float32 (n, D), y int64 (n)}}, owned by the caller (or the
   * enclosing scope).
   *
   * @throws CheckpointFormatException naming the file when it does not match the manifest
   */
  public Tensor[] read(int i) throws IOException {
    Path f = dir.resolve(shardName(i));
    try (Npz.Reader r = Npz.open(f)) {
      check(r, f, i);
      int n = Math.toIntExact(rows[i]);
      float[] x = new float[Math.toIntExact(n * dim)];
      try (InputStream in = r.stream("x")) {
        byte[] b = new DataInputStream(in).readNBytes(x.length * 4);
        if (b.length != x.length * 4) {
          throw new CheckpointFormatException(f + " is truncated; delete " + dir);
        }
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(x);
      }
      return new Tensor[] {Tensor.of(x, n, dim), Tensor.of(labels(r, f), n)};
    }
  }

  /** The labels of shard {@code i} only. */
  public long[] labels(int i) throws IOException {
    Path f = dir.resolve(shardName(i));
    try (Npz.Reader r = Npz.open(f)) {
      check(r, f, i);
      return labels(r, f);
    }
  }

  private void check(Npz.Reader r, Path f, int i) throws IOException {
    if (!r.has("x")
        || !r.has("y")
        || !r.info("x").descr().equals("<f4")
        || !r.info("y").descr().equals("<i8")
        || !java.util.Arrays.equals(r.info("x").shape(), new long[] {rows[i], dim})
        || !java.util.Arrays.equals(r.info("y").shape(), new long[] {rows[i]})) {
      throw new CheckpointFormatException(
          f + " does not hold x float32 (" + rows[i] + ", " + dim + ") and y int64; delete " + dir);
    }
  }

  private static long[] labels(Npz.Reader r, Path f) throws IOException {
    double[] y = r.doubles("y");
    long[] out = new long[y.length];
    for (int k = 0; k < y.length; k++) {
      if (y[k] < 0) {
        throw new CheckpointFormatException(f + " has a negative label");
      }
      out[k] = (long) y[k];
    }
    return out;
  }

  static String shardName(int i) {
    return String.format("shard-%05d.npz", i);
  }

  /**
   * Starts a cache in {@code dir} (created; leftover shards of an interrupted run are deleted).
   *
   * @param shardRows rows per shard (the last may hold fewer)
   */
  public static Writer create(Path dir, long dim, int shardRows) throws IOException {
    if (dim < 1 || shardRows < 1) {
      throw new IllegalArgumentException("dim and shard rows must be >= 1");
    }
    Files.createDirectories(dir);
    Files.deleteIfExists(dir.resolve(MANIFEST));
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.toList()) {
        String n = p.getFileName().toString();
        if (n.startsWith("shard-") && n.endsWith(".npz")) {
          Files.delete(p);
        }
      }
    }
    return new Writer(dir, dim, shardRows);
  }

  /** Appends rows shard by shard; {@link #commit} writes the manifest. Not thread-safe. */
  public static final class Writer {
    private final Path dir;
    private final long dim;
    private final int shardRows;
    private final float[] x;
    private final long[] y;
    private int filled;
    private final List<Long> rows = new ArrayList<>();

    private Writer(Path dir, long dim, int shardRows) {
      this.dir = dir;
      this.dim = dim;
      this.shardRows = shardRows;
      this.x = new float[Math.toIntExact(shardRows * dim)];
      this.y = new long[shardRows];
    }

    /** Appends {@code labels.length} rows of features (row-major, D each). */
    public void add(float[] features, long[] labels) throws IOException {
      Objects.requireNonNull(features, "features");
      if (features.length != labels.length * dim) {
        throw new IllegalArgumentException(
            features.length + " feature values for " + labels.length + " rows of " + dim);
      }
      for (int r = 0; r < labels.length; r++) {
        if (labels[r] < 0) {
          throw new IllegalArgumentException("labels must be >= 0, got " + labels[r]);
        }
        System.arraycopy(
            features, Math.toIntExact(r * dim), x, Math.toIntExact(filled * dim), (int) dim);
        y[filled++] = labels[r];
        if (filled == shardRows) {
          flush();
        }
      }
    }

    private void flush() throws IOException {
      if (filled == 0) {
        return;
      }
      try (Npz.Writer w = Npz.create(dir.resolve(shardName(rows.size())), false)) {
        w.beginArray("x", "<f4", filled, dim);
        ByteBuffer bb =
            ByteBuffer.allocate(Math.toIntExact(filled * dim * 4)).order(ByteOrder.LITTLE_ENDIAN);
        bb.asFloatBuffer().put(x, 0, Math.toIntExact(filled * dim));
        w.write(bb.array());
        w.beginArray("y", "<i8", filled);
        ByteBuffer yb = ByteBuffer.allocate(filled * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < filled; i++) {
          yb.putLong(y[i]);
        }
        w.write(yb.array());
        w.commit();
      }
      rows.add((long) filled);
      filled = 0;
    }

    /** Writes the last shard and the manifest; the cache is complete afterwards. */
    public FeatureShards commit() throws IOException {
      flush();
      if (rows.isEmpty()) {
        throw new IllegalStateException("no rows were added");
      }
      ObjectNode m = JSON.createObjectNode();
      m.put("format", FORMAT);
      m.put("dim", dim);
      var arr = m.putArray("rows");
      rows.forEach(arr::add);
      AtomicFiles.write(dir.resolve(MANIFEST), JSON.writeValueAsBytes(m));
      long[] r = rows.stream().mapToLong(Long::longValue).toArray();
      return new FeatureShards(dir, dim, r);
    }
  }
}
