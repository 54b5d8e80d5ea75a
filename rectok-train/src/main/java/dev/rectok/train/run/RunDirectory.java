package dev.rectok.train.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.rectok.torch.io.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A training run's folder:
 *
 * <ul>
 *   <li>{@code config.json}: the run's configuration (any Jackson-serializable object), written
 *       once, when training starts ({@link #commitConfig}, called by the training loop and by the
 *       first {@link #appendMetrics}), so a configuration refused before that never binds the
 *       folder; reopening the run with a configuration that serializes differently fails with
 *       {@link IllegalArgumentException} naming every differing JSON path;
 *   <li>{@code run.lock}: an exclusive lock held from {@link #open} to {@link #close} (released by
 *       the operating system if the process dies); a second trainer on the same folder is refused
 *       with a message naming the holder's process id, host and start time;
 *   <li>{@code metrics.jsonl}: one JSON object per line, appended by {@link #appendMetrics} and
 *       handed to the operating system at once (a killed process loses nothing it appended; a power
 *       loss may lose the tail). A torn last line left by a crash is truncated on reopen; a damaged
 *       line elsewhere is skipped by {@link #readMetrics} with a warning naming the file and line,
 *       and dropped when {@link #rewindMetrics} rewrites the file;
 *   <li>{@code checkpoints/}: a {@link CheckpointStore};
 *   <li>{@code samples/}: for sample grids.
 * </ul>
 *
 * <p>Configurations and metrics records are serialized by Jackson through their public accessors:
 * use public records or classes in a package the owning module exports (or opens to {@code
 * com.fasterxml.jackson.databind}), or plain {@code Map}s.
 *
 * <p><b>Ownership and threading.</b> Holds the metrics file open until {@link #close()}. {@link
 * #appendMetrics} is thread-safe; everything else belongs to the training thread. One process per
 * run folder, enforced by the lock.
 */
public final class RunDirectory implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(RunDirectory.class.getName());

  /** The configuration file's name. */
  public static final String CONFIG = "config.json";

  /** The metrics file's name. */
  public static final String METRICS = "metrics.jsonl";

  /** The lock file's name. */
  public static final String LOCK = "run.lock";

  private static final System.Logger WARN = System.getLogger(RunDirectory.class.getName());

  private static final JsonMapper JSON =
      JsonMapper.builder()
          .disable(SerializationFeature.INDENT_OUTPUT)
          // public accessors of public types in exported packages need no reflective access
          .disable(MapperFeature.OVERRIDE_PUBLIC_ACCESS_MODIFIERS)
          .build();

  private final Path dir;
  private final JsonNode config;
  private final boolean resumed;
  private final CheckpointStore checkpoints;
  private FileChannel metrics;
  private final RunLock lock;
  private byte[] pendingConfig;

  private RunDirectory(
      Path dir,
      JsonNode config,
      boolean resumed,
      CheckpointStore checkpoints,
      FileChannel metrics,
      RunLock lock,
      byte[] pendingConfig) {
    this.dir = dir;
    this.config = config;
    this.resumed = resumed;
    this.checkpoints = checkpoints;
    this.metrics = metrics;
    this.lock = lock;
    this.pendingConfig = pendingConfig;
  }

  /**
   * Creates the run folder, or reopens it when it already has a {@code config.json}.
   *
   * @param dir the folder (created if missing)
   * @param config the configuration; on reopen it must serialize to the stored JSON
   * @param keepCheckpoints how many checkpoints {@link #checkpoints()} keeps
   * @throws IllegalArgumentException if the stored configuration differs (the message lists the
   *     differing JSON paths with both values)
   */
  public static RunDirectory open(Path dir, Object config, int keepCheckpoints) throws IOException {
    Objects.requireNonNull(config, "config");
    Path abs = Files.createDirectories(dir).toAbsolutePath();
    // Through bytes, so numbers have the node types a read of the file gives.
    byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(config);
    JsonNode given = JSON.readTree(bytes);
    RunLock lock = RunLock.acquire(abs.resolve(LOCK));
    FileChannel ch = null;
    try {
      Path configFile = abs.resolve(CONFIG);
      boolean resumed = Files.exists(configFile);
      if (resumed) {
        JsonNode stored;
        try {
          stored = JSON.readTree(configFile.toFile());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
          throw new IOException(
              configFile
                  + " is not valid JSON ("
                  + e.getOriginalMessage()
                  + "); restore it or "
                  + "start a new run in another folder",
              e);
        }
        List<String> diffs = new ArrayList<>();
        diff("", stored, given, diffs);
        if (!diffs.isEmpty()) {
          throw new IllegalArgumentException(
              configFile
                  + " belongs to a run with a different configuration: "
                  + String.join("; ", diffs));
        }
      }
      Files.createDirectories(abs.resolve("samples"));
      CheckpointStore store = new CheckpointStore(abs.resolve("checkpoints"), keepCheckpoints);
      ch =
          FileChannel.open(
              abs.resolve(METRICS),
              StandardOpenOption.CREATE,
              StandardOpenOption.READ,
              StandardOpenOption.WRITE);
      repairTornLine(abs.resolve(METRICS), ch);
      ch.position(ch.size());
      return new RunDirectory(abs, given, resumed, store, ch, lock, resumed ? null : bytes);
    } catch (IOException | RuntimeException e) {
      if (ch != null) {
        ch.close();
      }
      lock.close();
      throw e;
    }
  }

  /**
   * Writes {@code config.json} for a new run; a no-op once written or for a resumed run. The
   * training loop calls it when the configuration has been accepted by everything that validates
   * it, so a refused configuration leaves the folder free for the corrected command.
   */
  public synchronized void commitConfig() throws IOException {
    if (pendingConfig != null) {
      AtomicFiles.write(dir.resolve(CONFIG), pendingConfig);
      pendingConfig = null;
    }
  }

  // Cuts a last line without its newline (a crash mid-append) back to the last complete line.
  private static void repairTornLine(Path file, FileChannel ch) throws IOException {
    long size = ch.size();
    long keep = size;
    ByteBuffer one = ByteBuffer.allocate(1);
    while (keep > 0) {
      one.clear();
      ch.read(one, keep - 1);
      if (one.get(0) == '\n') {
        break;
      }
      keep--;
    }
    if (keep != size) {
      LOG.log(
          System.Logger.Level.WARNING,
          "{0}: dropping a torn last line of {1} bytes left by an interrupted run",
          file,
          size - keep);
      ch.truncate(keep);
      ch.force(true);
    }
  }

  private static void diff(String path, JsonNode stored, JsonNode given, List<String> out) {
    if (stored.isObject() && given.isObject()) {
      java.util.TreeSet<String> keys = new java.util.TreeSet<>();
      stored.fieldNames().forEachRemaining(keys::add);
      given.fieldNames().forEachRemaining(keys::add);
      for (String k : keys) {
        String p = path + "/" + k;
        if (!stored.has(k)) {
          out.add(p + ": absent in the run, given " + given.get(k));
        } else if (!given.has(k)) {
          out.add(p + ": run has " + stored.get(k) + ", absent in the given config");
        } else {
          diff(p, stored.get(k), given.get(k), out);
        }
      }
    } else if (stored.isArray() && given.isArray() && stored.size() == given.size()) {
      for (int i = 0; i < stored.size(); i++) {
        diff(path + "/" + i, stored.get(i), given.get(i), out);
      }
    } else if (!stored.equals(given)) {
      out.add((path.isEmpty() ? "/" : path) + ": run has " + stored + ", given " + given);
    }
  }

  /** The run folder. */
  public Path dir() {
    return dir;
  }

  /** The configuration as stored. */
  public JsonNode config() {
    return config.deepCopy();
  }

  /** True when the folder already held a run (its configuration matched). */
  public boolean resumed() {
    return resumed;
  }

  /** The checkpoint folder. */
  public CheckpointStore checkpoints() {
    return checkpoints;
  }

  /** The folder for sample grids. */
  public Path samplesDir() {
    return dir.resolve("samples");
  }

  /**
   * Appends one record (a {@code Map}, a record or any object Jackson serializes to a JSON object)
   * as one line of {@code metrics.jsonl}, written to the file before returning.
   */
  public synchronized void appendMetrics(Object record) throws IOException {
    commitConfig();
    JsonNode node = JSON.valueToTree(record);
    if (!node.isObject()) {
      throw new IllegalArgumentException(
          "a metrics record must serialize to a JSON object, got " + node);
    }
    byte[] line = (JSON.writeValueAsString(node) + "\n").getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.wrap(line);
    while (b.hasRemaining()) {
      metrics.write(b);
    }
  }

  /**
   * Every metrics record, in order. A line that is not a JSON object (damaged by a disk error or an
   * editor) is skipped with a warning naming the file and line; {@link #rewindMetrics} drops it
   * from the file.
   */
  public synchronized List<JsonNode> readMetrics() throws IOException {
    List<JsonNode> out = new ArrayList<>();
    Path file = dir.resolve(METRICS);
    int lineNo = 0;
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      lineNo++;
      if (line.isBlank()) {
        continue;
      }
      JsonNode n;
      try {
        n = JSON.readTree(line);
      } catch (com.fasterxml.jackson.core.JacksonException e) {
        n = null;
      }
      if (n == null || !n.isObject()) {
        WARN.log(
            System.Logger.Level.WARNING,
            "{0}:{1}: skipping a damaged metrics line (not a JSON object): {2}",
            file,
            lineNo,
            dev.rectok.torch.io.SafeText.of(
                line.length() > 80 ? line.substring(0, 80) + "..." : line));
        continue;
      }
      out.add(n);
    }
    return out;
  }

  /**
   * Drops the records whose numeric field {@code stepField} exceeds {@code step}: call it after
   * resuming from the checkpoint at {@code step} (0 when there is none), so records of the steps
   * that will be redone are not duplicated. Damaged lines are dropped too. The file is replaced
   * atomically.
   *
   * @return how many lines were dropped
   */
  public synchronized int rewindMetrics(String stepField, long step) throws IOException {
    List<JsonNode> all = readMetrics();
    StringBuilder sb = new StringBuilder();
    // damaged lines (skipped by readMetrics) count as dropped, so the file is rewritten without
    // them
    int dropped =
        (int)
                Files.readAllLines(dir.resolve(METRICS), StandardCharsets.UTF_8).stream()
                    .filter(l -> !l.isBlank())
                    .count()
            - all.size();
    for (JsonNode n : all) {
      JsonNode s = n.get(stepField);
      if (s != null && s.isNumber() && s.longValue() > step) {
        dropped++;
      } else {
        sb.append(JSON.writeValueAsString(n)).append('\n');
      }
    }
    if (dropped > 0) {
      AtomicFiles.write(dir.resolve(METRICS), sb.toString().getBytes(StandardCharsets.UTF_8));
      // The channel still points at the replaced file: reopen on the new one.
      reopenMetrics();
    }
    return dropped;
  }

  private void reopenMetrics() throws IOException {
    FileChannel ch = FileChannel.open(dir.resolve(METRICS), StandardOpenOption.WRITE);
    ch.position(ch.size());
    FileChannel old = metrics;
    metrics = ch;
    old.close();
  }

  /** Closes the metrics file and releases the lock. Idempotent. */
  @Override
  public synchronized void close() throws IOException {
    try {
      metrics.close();
    } finally {
      lock.close();
    }
  }
}
