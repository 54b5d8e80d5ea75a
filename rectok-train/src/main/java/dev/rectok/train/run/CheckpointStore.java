package dev.rectok.train.run;

import dev.rectok.torch.io.AtomicFiles;
import dev.rectok.torch.io.CheckpointFormatException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code checkpoints/} folder of a run: numbered checkpoint files {@code
 * step-000000000123.safetensors}, a {@code latest} pointer file naming the newest complete one, and
 * retention of the last {@code keep} checkpoints.
 *
 * <p><b>Crash safety.</b> A save writes the checkpoint atomically (temp file, fsync, rename), then
 * replaces {@code latest} atomically, then deletes checkpoints beyond the last {@code keep}. A
 * process killed at any moment therefore leaves {@code latest} naming a complete checkpoint (or no
 * {@code latest} before the first save); at worst a temp file is left behind, which opening the
 * store deletes. {@link #restoreLatest} reads {@code latest}; only if it is missing or its target
 * fails validation does it fall back, with a warning, to the newest checkpoint file that validates.
 *
 * <p><b>Threading.</b> One writer per folder (the training process); not thread-safe.
 */
public final class CheckpointStore {
  private static final System.Logger LOG = System.getLogger(CheckpointStore.class.getName());
  private static final Pattern FILE = Pattern.compile("step-(\\d{12})\\.safetensors");

  /** The pointer file's name. */
  public static final String LATEST = "latest";

  private final Path dir;
  private final int keep;

  /**
   * Opens (creating if needed) a checkpoint folder and deletes temp files a killed writer left.
   *
   * @param keep how many checkpoints to keep, at least 1
   */
  public CheckpointStore(Path dir, int keep) throws IOException {
    if (keep < 1) {
      throw new IllegalArgumentException("keep must be >= 1, got " + keep);
    }
    this.dir = Files.createDirectories(dir).toAbsolutePath();
    this.keep = keep;
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(this.dir, ".*.tmp")) {
      for (Path p : ds) {
        LOG.log(
            System.Logger.Level.INFO,
            "deleting {0} left by an interrupted checkpoint write",
            p.getFileName());
        Files.deleteIfExists(p);
      }
    }
  }

  /** The folder. */
  public Path dir() {
    return dir;
  }

  /** The file name used for a checkpoint at {@code step}. */
  public static String fileName(long step) {
    if (step < 0) {
      throw new IllegalArgumentException("step must be >= 0, got " + step);
    }
    return String.format("step-%012d.safetensors", step);
  }

  /**
   * Saves a checkpoint of {@code state} at {@code counters.step()}, points {@code latest} at it and
   * prunes old ones.
   *
   * @return the checkpoint file
   */
  public Path save(TrainingCheckpoint state, TrainingCheckpoint.Counters counters)
      throws IOException {
    Path file = dir.resolve(fileName(counters.step()));
    state.write(file, counters);
    AtomicFiles.write(
        dir.resolve(LATEST), (file.getFileName() + "\n").getBytes(StandardCharsets.UTF_8));
    List<Path> all = list();
    for (int i = 0; i < all.size() - keep; i++) {
      if (!all.get(i).equals(file)) {
        Files.deleteIfExists(all.get(i));
      }
    }
    return file;
  }

  /** Checkpoint files present, oldest step first. */
  public List<Path> list() throws IOException {
    List<Path> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "step-*.safetensors")) {
      for (Path p : ds) {
        if (FILE.matcher(p.getFileName().toString()).matches()) {
          out.add(p);
        }
      }
    }
    out.sort(null); // zero-padded step numbers sort by step
    return out;
  }

  /** The file {@code latest} names, if the pointer exists and names a checkpoint file. */
  public Optional<Path> latest() throws IOException {
    String name;
    try {
      name = Files.readString(dir.resolve(LATEST), StandardCharsets.UTF_8).strip();
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    Matcher m = FILE.matcher(name);
    if (!m.matches()) {
      throw new CheckpointFormatException(
          dir.resolve(LATEST) + ": does not name a checkpoint file: '" + name + "'");
    }
    return Optional.of(dir.resolve(name));
  }

  /**
   * Restores {@code state} from the newest complete checkpoint.
   *
   * @return its counters, or empty when the folder holds no checkpoint (a fresh run)
   * @throws CheckpointFormatException if checkpoint files exist but none validates
   */
  public Optional<TrainingCheckpoint.Counters> restoreLatest(TrainingCheckpoint state)
      throws IOException {
    Optional<Path> pointed = Optional.empty();
    try {
      pointed = latest();
    } catch (CheckpointFormatException e) {
      LOG.log(System.Logger.Level.WARNING, "ignoring a damaged pointer: {0}", e.getMessage());
    }
    List<Path> candidates = new ArrayList<>();
    pointed.ifPresent(candidates::add);
    List<Path> files = list();
    for (int i = files.size() - 1; i >= 0; i--) {
      if (!candidates.contains(files.get(i))) {
        candidates.add(files.get(i));
      }
    }
    if (candidates.isEmpty()) {
      return Optional.empty();
    }
    List<String> problems = new ArrayList<>();
    for (Path p : candidates) {
      if (!Files.exists(p)) {
        problems.add(p.getFileName() + ": missing");
        continue;
      }
      try {
        TrainingCheckpoint.peek(p); // validates before anything is touched
      } catch (CheckpointFormatException e) {
        problems.add(e.getMessage());
        continue;
      }
      if (!problems.isEmpty()) {
        LOG.log(
            System.Logger.Level.WARNING,
            "latest checkpoint unusable ({0}); resuming from {1}",
            problems,
            p.getFileName());
      }
      return Optional.of(state.read(p));
    }
    throw new CheckpointFormatException(dir + ": no checkpoint validates: " + problems);
  }
}
