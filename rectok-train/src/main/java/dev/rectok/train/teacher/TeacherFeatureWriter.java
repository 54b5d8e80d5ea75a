package dev.rectok.train.teacher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.api.Progress;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.io.AtomicFiles;
import dev.rectok.torch.io.HostTensor;
import dev.rectok.torch.io.SafeTensors;
import dev.rectok.train.loop.TrainingData;
import dev.rectok.train.loss.FeatureTeacher;
import dev.rectok.train.loss.PrecomputedTeacher;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Precomputes teacher features into the shards {@link PrecomputedTeacher} reads: one safetensors
 * file per chunk of consecutive dataset indices, {@code features-<first>-<end>.safetensors} holding
 * {@code features.<index>} (N, D) for each index in [first, end). Chunks are assigned to workers by
 * global index ({@code chunk % shardCount == shardIndex}), so any number of processes or machines
 * write disjoint files into one folder (or folders merged later) and together cover the dataset.
 * Each file is written atomically; a rerun skips the chunks already on disk, so the work resumes
 * after any interruption. {@code teacher-features.json} records the settings and refuses a resume
 * with different ones.
 *
 * <p>Stateless and thread-safe; one call writes one folder and must not race another call with the
 * same shard index on the same folder.
 */
public final class TeacherFeatureWriter {
  /** The settings file in the output folder. */
  public static final String MANIFEST = "teacher-features.json";

  private static final ObjectMapper JSON = new ObjectMapper();

  private TeacherFeatureWriter() {}

  /**
   * What to write.
   *
   * @param teacher a description of the teacher, recorded in the manifest (e.g. the file name)
   * @param chunk images per shard file
   * @param batch images per teacher forward
   * @param shardIndex this worker's index in [0, shardCount)
   * @param shardCount number of workers sharing the dataset
   * @param dtype stored dtype: float32 or bfloat16 (half the disk; the trainer reads either)
   * @param limit the first {@code limit} images only (negative: all)
   */
  public record Options(
      String teacher,
      int chunk,
      int batch,
      int shardIndex,
      int shardCount,
      DType dtype,
      int limit) {
    /** Validates ranges. */
    public Options {
      if (chunk < 1 || batch < 1) {
        throw new IllegalArgumentException(
            "chunk and batch must be >= 1, got " + chunk + " and " + batch);
      }
      if (shardCount < 1 || shardIndex < 0 || shardIndex >= shardCount) {
        throw new IllegalArgumentException(
            "shard must be i/n with 0 <= i < n, got " + shardIndex + "/" + shardCount);
      }
      if (dtype != DType.FLOAT32 && dtype != DType.BFLOAT16) {
        throw new IllegalArgumentException(
            "features are stored as float32 or bfloat16, not " + dtype);
      }
    }
  }

  /** What a call did. */
  public record Report(
      int chunksWritten,
      int chunksSkipped,
      long imagesWritten,
      long[] featureShape,
      double seconds) {}

  /** The shard file of the chunk covering [first, end). */
  public static String fileName(long first, long end) {
    return String.format("features-%09d-%09d.safetensors", first, end);
  }

  /**
   * Writes this worker's missing chunks.
   *
   * @param teacher computes the features (borrowed)
   * @param data the training set, opened at the tokenizer's image size (borrowed)
   * @throws IOException on write failures, or when the folder holds features written with other
   *     settings
   */
  public static Report run(
      FeatureTeacher teacher, TrainingData data, Path outDir, Options o, Progress progress)
      throws IOException {
    long t0 = System.nanoTime();
    Files.createDirectories(outDir);
    long total = o.limit() < 0 ? data.size() : Math.min(o.limit(), data.size());
    checkManifest(outDir, o, total);
    long chunks = (total + o.chunk() - 1) / o.chunk();
    long mine = 0;
    for (long c = o.shardIndex(); c < chunks; c += o.shardCount()) {
      mine++;
    }
    progress.start("teacher features, shard " + o.shardIndex() + "/" + o.shardCount(), mine);
    int written = 0;
    int skipped = 0;
    long images = 0;
    long[] shape = null;
    long done = 0;
    for (long c = o.shardIndex(); c < chunks; c += o.shardCount()) {
      long first = c * o.chunk();
      long end = Math.min(total, first + o.chunk());
      Path file = outDir.resolve(fileName(first, end));
      if (Files.isRegularFile(file)) {
        skipped++;
      } else {
        shape = writeChunk(teacher, data, file, first, end, o);
        written++;
        images += end - first;
      }
      done++;
      double secs = (System.nanoTime() - t0) / 1e9;
      progress.update(
          done,
          String.format(
              "%d written, %d skipped, %.1f images/s",
              written, skipped, images / Math.max(secs, 1e-9)));
    }
    progress.end();
    return new Report(written, skipped, images, shape, (System.nanoTime() - t0) / 1e9);
  }

  /**
   * The whole {@code rectok teacher-features} job: opens the teacher file ({@link TeacherFiles})
   * and the training set at {@code imageSize}, then writes this worker's missing chunks.
   *
   * @param grid token grid side a DINOv3 teacher yields (its input is {@code grid × patch} pixels)
   * @param autocast null (float32) or bfloat16: the DINOv3 forward under autocast
   * @throws IllegalArgumentException when {@code teacherFile} is a folder of shards
   */
  public static Report run(
      Path teacherFile,
      Path data,
      int imageSize,
      int grid,
      DType autocast,
      Device device,
      Path outDir,
      Options o,
      Progress progress)
      throws IOException {
    if (grid < 1) {
      throw new IllegalArgumentException("token grid must be >= 1, got " + grid);
    }
    TeacherFiles.Opened t = TeacherFiles.open(teacherFile, device);
    try (FeatureTeacher teacher = t.teacher();
        TrainingData d = TrainingData.open(data, imageSize, o.limit())) {
      if (t.kind().equals("precomputed")) {
        throw new IllegalArgumentException(
            teacherFile + " is a folder of precomputed features, not a teacher model");
      }
      if (teacher instanceof DinoV3Teacher dino) {
        dino.tokenGrid(grid, grid).autocast(autocast);
      }
      try (Scope s = Scope.open()) {
        return run(teacher, d, outDir, o, progress);
      }
    }
  }

  private static long[] writeChunk(
      FeatureTeacher teacher, TrainingData data, Path file, long first, long end, Options o)
      throws IOException {
    try (Arena arena = Arena.ofConfined();
        Scope s = Scope.open()) {
      Map<String, HostTensor> out = new LinkedHashMap<>();
      long[] shape = null;
      for (long b = first; b < end; b += o.batch()) {
        int n = (int) Math.min(o.batch(), end - b);
        long[] idx = new long[n];
        for (int i = 0; i < n; i++) {
          idx[i] = b + i;
        }
        try (Scope inner = Scope.open()) {
          Tensor f = teacher.features(data.images(idx), idx).to(o.dtype()).contiguous();
          shape = new long[] {f.size(1), f.size(2)};
          for (int i = 0; i < n; i++) {
            out.put(PrecomputedTeacher.PREFIX + idx[i], f.select(0, i).contiguous().toHost(arena));
          }
        }
      }
      SafeTensors.write(
          file,
          out,
          Map.of(
              "rectok.teacher_features",
              "1",
              "first",
              Long.toString(first),
              "end",
              Long.toString(end)));
      return shape;
    }
  }

  /**
   * Writes the manifest on first use; afterwards refuses other settings (resuming must not mix
   * features).
   */
  private static void checkManifest(Path dir, Options o, long total) throws IOException {
    ObjectNode m = JSON.createObjectNode();
    m.put("teacher", o.teacher())
        .put("images", total)
        .put("chunk", o.chunk())
        .put("dtype", o.dtype().toString());
    Path f = dir.resolve(MANIFEST);
    if (Files.isRegularFile(f)) {
      JsonNode old = JSON.readTree(f.toFile());
      if (!old.toString().equals(m.toString())) {
        throw new IOException(
            f
                + " records other settings "
                + old
                + " than this call's "
                + m
                + ": write into another folder, or rerun with the recorded settings to resume");
      }
      return;
    }
    AtomicFiles.write(f, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(m));
  }
}
