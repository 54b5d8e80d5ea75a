package dev.rectok.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * An ordered, immutable list of image files to stream through the tokenizer, for example the
 * ImageNet train set the reference computes its latent statistics over
 * (docs/tokenizer.md#latent-statistics).
 *
 * <p>Two sources:
 *
 * <ul>
 *   <li>{@link #fromFolder}: every file under a folder tree (class subfolders as in ImageNet, or
 *       any nesting) whose name ends in {@code .jpg}, {@code .jpeg}, {@code .png}, {@code .bmp} or
 *       {@code .gif}, case-insensitively, sorted by the '/'-separated path relative to the root (so
 *       the order does not depend on the file system or platform). Symbolic links to folders are
 *       not followed.
 *   <li>{@link #fromFileList}: a text file with one path per line, relative to the list file's
 *       folder (absolute paths are kept); blank lines and lines starting with {@code #} are
 *       ignored; the order of the file is kept. Entries are not checked for existence here: a
 *       missing or corrupt image is skipped and counted when it is read.
 * </ul>
 *
 * <p>{@link #identity()} fingerprints the list (count and a SHA-256 over all relative paths) so a
 * resumable pass can refuse a checkpoint written for a different list.
 *
 * <p><b>Threading.</b> Immutable and thread-safe. It holds only paths, no open files.
 */
public final class ImageList {
  /** The recognised image extensions (lower case, without the dot). */
  public static final Set<String> EXTENSIONS = Set.of("jpg", "jpeg", "png", "bmp", "gif");

  private final Path root;
  private final List<Path> files;
  private final List<String> names;
  private final String identity;

  private ImageList(Path root, List<Path> files, List<String> names) {
    this.root = root;
    this.files = List.copyOf(files);
    this.names = List.copyOf(names);
    this.identity = fingerprint(this.names);
  }

  /**
   * All image files under {@code folder}, recursively, in sorted order.
   *
   * @throws IOException when {@code folder} does not exist, is not a folder or cannot be walked
   */
  public static ImageList fromFolder(Path folder) throws IOException {
    Path root = folder.toAbsolutePath().normalize();
    if (!Files.exists(root)) {
      throw new IOException("image folder not found: " + folder);
    }
    if (!Files.isDirectory(root)) {
      throw new IOException("not a folder: " + folder);
    }
    List<String> rel;
    try (Stream<Path> walk = Files.walk(root)) {
      rel =
          walk.filter(Files::isRegularFile)
              .filter(p -> isImageName(p.getFileName().toString()))
              .map(p -> slashPath(root.relativize(p)))
              .sorted(Comparator.naturalOrder())
              .toList();
    } catch (java.io.UncheckedIOException e) {
      throw new IOException(
          "cannot list image folder " + folder + ": " + e.getCause().getMessage(), e.getCause());
    }
    List<Path> files = new ArrayList<>(rel.size());
    for (String r : rel) {
      files.add(root.resolve(r));
    }
    return new ImageList(root, files, rel);
  }

  /**
   * The files named in {@code listFile}, one per line, relative to its folder.
   *
   * @throws IOException when the list file is missing or unreadable
   */
  public static ImageList fromFileList(Path listFile) throws IOException {
    Path list = listFile.toAbsolutePath().normalize();
    if (!Files.isRegularFile(list)) {
      throw new IOException("image list file not found: " + listFile);
    }
    Path root = list.getParent();
    List<Path> files = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (String line : Files.readAllLines(list, StandardCharsets.UTF_8)) {
      String s = line.strip();
      if (s.isEmpty() || s.startsWith("#")) {
        continue;
      }
      names.add(s);
      files.add(root.resolve(s).normalize());
    }
    return new ImageList(root, files, names);
  }

  /**
   * A folder is walked with {@link #fromFolder}, anything else is read with {@link #fromFileList}.
   */
  public static ImageList open(Path folderOrList) throws IOException {
    return Files.isDirectory(folderOrList) ? fromFolder(folderOrList) : fromFileList(folderOrList);
  }

  /** Whether {@code fileName} has one of the {@link #EXTENSIONS}, ignoring case. */
  public static boolean isImageName(String fileName) {
    int dot = fileName.lastIndexOf('.');
    return dot > 0 && EXTENSIONS.contains(fileName.substring(dot + 1).toLowerCase(Locale.ROOT));
  }

  private static String slashPath(Path rel) {
    StringBuilder b = new StringBuilder();
    for (Path part : rel) {
      if (!b.isEmpty()) {
        b.append('/');
      }
      b.append(part);
    }
    return b.toString();
  }

  private static String fingerprint(List<String> names) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (String n : names) {
        md.update(n.getBytes(StandardCharsets.UTF_8));
        md.update((byte) '\n');
      }
      return names.size() + ":" + HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is unavailable", e);
    }
  }

  /** The folder the entries are relative to. */
  public Path root() {
    return root;
  }

  /** The resolved image paths, in streaming order (unmodifiable). */
  public List<Path> files() {
    return files;
  }

  /** The entries as given: paths relative to {@link #root()} ('/'-separated for folders). */
  public List<String> names() {
    return names;
  }

  /** The number of entries. */
  public int size() {
    return files.size();
  }

  /** The {@code i}-th image path. */
  public Path get(int i) {
    return files.get(i);
  }

  /**
   * {@code "<count>:<sha-256 of the relative paths>"}: equal for equal lists, wherever they lie.
   */
  public String identity() {
    return identity;
  }

  @Override
  public String toString() {
    return "ImageList[" + files.size() + " images under " + root + "]";
  }
}
