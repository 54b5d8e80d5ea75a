package dev.rectok.train.data;

import dev.rectok.data.ImageList;
import dev.rectok.image.AdmPreprocess;
import dev.rectok.image.RgbImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Labelled image samples for training (docs/training.md#optimizer): an {@link ImageList} (folder
 * tree or file list) plus one label per entry, read with the reference's ADM preprocessing ({@link
 * AdmPreprocess#centerCrop}) to {@link #imageSize()}.
 *
 * <p>Labels:
 *
 * <ul>
 *   <li>folders ({@link #fromFolder}): ImageNet style, the label of a file is the index of its
 *       top-level class folder among the sorted top-level folders that hold at least one image
 *       ({@link #classNames()}), as torchvision's {@code ImageFolder}; images directly in the root
 *       have label -1;
 *   <li>file lists ({@link #fromFileList}): each line is {@code path} or {@code path<TAB>label} (a
 *       non-negative integer); entries without a label have -1; {@link #classNames()} is empty.
 * </ul>
 *
 * <p><b>Threading.</b> Immutable and thread-safe: {@link #load} may be called from any number of
 * threads at once. It holds paths only, no open files and no native tensors.
 */
public final class ImageDataset {
  /** The label of a sample without one. */
  public static final int NO_LABEL = -1;

  private final ImageList list;
  private final List<Path> files;
  private final int[] labels;
  private final List<String> classNames;
  private final AdmPreprocess preprocess;

  private ImageDataset(
      ImageList list, List<Path> files, int[] labels, List<String> classNames, int size) {
    this.list = list;
    this.files = List.copyOf(files);
    this.labels = labels;
    this.classNames = List.copyOf(classNames);
    this.preprocess = new AdmPreprocess(size);
  }

  /** A folder is read with {@link #fromFolder}, anything else with {@link #fromFileList}. */
  public static ImageDataset open(Path folderOrList, int size) throws IOException {
    return Files.isDirectory(folderOrList)
        ? fromFolder(folderOrList, size)
        : fromFileList(folderOrList, size);
  }

  /**
   * All images under {@code folder} in {@link ImageList#fromFolder} order, labelled by class
   * folder.
   *
   * @throws IOException when the folder is missing or cannot be walked
   */
  public static ImageDataset fromFolder(Path folder, int size) throws IOException {
    ImageList list = ImageList.fromFolder(folder);
    TreeSet<String> classes = new TreeSet<>();
    for (String name : list.names()) {
      int slash = name.indexOf('/');
      if (slash > 0) {
        classes.add(name.substring(0, slash));
      }
    }
    List<String> classNames = new ArrayList<>(classes);
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < classNames.size(); i++) {
      index.put(classNames.get(i), i);
    }
    int[] labels = new int[list.size()];
    for (int i = 0; i < labels.length; i++) {
      String name = list.names().get(i);
      int slash = name.indexOf('/');
      labels[i] = slash > 0 ? index.get(name.substring(0, slash)) : NO_LABEL;
    }
    return new ImageDataset(list, list.files(), labels, classNames, size);
  }

  /**
   * The entries of a list file ({@link ImageList#fromFileList}: blank and {@code #} lines ignored,
   * paths relative to the list's folder), each optionally followed by a TAB and an integer label.
   *
   * @throws IOException when the list file is missing or a label is not a non-negative integer
   */
  public static ImageDataset fromFileList(Path listFile, int size) throws IOException {
    ImageList list = ImageList.fromFileList(listFile);
    List<Path> files = new ArrayList<>(list.size());
    int[] labels = new int[list.size()];
    for (int i = 0; i < labels.length; i++) {
      String entry = list.names().get(i);
      int tab = entry.indexOf('\t');
      if (tab < 0) {
        files.add(list.get(i));
        labels[i] = NO_LABEL;
        continue;
      }
      String path = entry.substring(0, tab).strip();
      String label = entry.substring(tab + 1).strip();
      try {
        labels[i] = Integer.parseInt(label);
      } catch (NumberFormatException e) {
        throw new IOException("bad label '" + label + "' for " + path + " in " + listFile, e);
      }
      if (labels[i] < 0) {
        throw new IOException("negative label " + labels[i] + " for " + path + " in " + listFile);
      }
      files.add(list.root().resolve(path).normalize());
    }
    return new ImageDataset(list, files, labels, List.of(), size);
  }

  /** The underlying list (its {@link ImageList#identity()} fingerprints the dataset's entries). */
  public ImageList imageList() {
    return list;
  }

  /** {@link ImageList#identity()} of the underlying list. */
  public String identity() {
    return list.identity();
  }

  /** The number of samples (including any that will turn out unreadable). */
  public int size() {
    return files.size();
  }

  /** The image file of sample {@code i}. */
  public Path path(int i) {
    return files.get(i);
  }

  /** The label of sample {@code i}, or {@link #NO_LABEL}. */
  public int label(int i) {
    return labels[i];
  }

  /** The sorted class folder names (folders only; empty for file lists). */
  public List<String> classNames() {
    return classNames;
  }

  /** The side of the square crops. */
  public int imageSize() {
    return preprocess.size();
  }

  /**
   * Reads sample {@code i} and applies ADM's centre crop: a {@code size x size} uint8 RGB image.
   *
   * @throws IOException when the file is missing or cannot be decoded
   */
  public RgbImage load(int i) throws IOException {
    return preprocess.centerCrop(AdmPreprocess.read(files.get(i)));
  }

  /**
   * The float32 CHW values in [-1, 1] of {@code crop} ({@code (u8/255 - 0.5)/0.5}, as {@link
   * AdmPreprocess#toTensor}), mirrored left-right when {@code flip}, written to {@code out} at
   * {@code offset}.
   */
  static void normalize(RgbImage crop, boolean flip, float[] out, int offset) {
    int w = crop.width();
    int h = crop.height();
    int hw = w * h;
    byte[] d = crop.data();
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int src = (y * w + (flip ? w - 1 - x : x)) * 3;
        int dst = offset + y * w + x;
        for (int c = 0; c < 3; c++) {
          out[dst + c * hw] = ((d[src + c] & 0xff) / 255f - 0.5f) / 0.5f;
        }
      }
    }
  }

  @Override
  public String toString() {
    return "ImageDataset["
        + files.size()
        + " images, "
        + classNames.size()
        + " classes, "
        + imageSize()
        + "px, "
        + list.root()
        + "]";
  }
}
