package dev.rectok.train.data;

import dev.rectok.api.DType;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Fashion-MNIST from Debian's {@code dataset-fashion-mnist} package (or any folder with the four
 * IDX files). Nothing is downloaded. Immutable; thread-safe.
 *
 * @param images uint8 pixels, {@code count * 28 * 28}, row-major
 * @param labels class indices 0..9
 * @param count samples
 */
public record FashionMnist(byte[] images, byte[] labels, int count) {
  /** Where Debian installs the files. */
  public static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");

  public static final int SIDE = 28;

  /** Class names in label order. */
  public static final List<String> CLASSES =
      List.of(
          "T-shirt/top",
          "Trouser",
          "Pullover",
          "Dress",
          "Coat",
          "Sandal",
          "Shirt",
          "Sneaker",
          "Bag",
          "Ankle boot");

  /** The data directory: {@code RECTOK_FASHION_MNIST} if set, else Debian's. */
  public static Path defaultDir() {
    String env = System.getenv("RECTOK_FASHION_MNIST");
    return env != null && !env.isBlank() ? Path.of(env) : DEBIAN_DIR;
  }

  /** Whether the four files exist in {@code dir}. */
  public static boolean isAvailable(Path dir) {
    return Files.isRegularFile(dir.resolve("train-images-idx3-ubyte.gz"))
        && Files.isRegularFile(dir.resolve("t10k-images-idx3-ubyte.gz"));
  }

  /**
   * Loads the train or test split, at most {@code limit} samples (negative: all).
   *
   * @throws IOException naming the missing or malformed file, with the package to install
   */
  public static FashionMnist load(Path dir, boolean train, int limit) throws IOException {
    String prefix = train ? "train" : "t10k";
    Path imgPath = dir.resolve(prefix + "-images-idx3-ubyte.gz");
    if (!Files.isRegularFile(imgPath)) {
      throw new IOException(
          "Fashion-MNIST not found in "
              + dir
              + ": install it with 'apt-get install dataset-fashion-mnist' or set RECTOK_FASHION_MNIST to a folder with the IDX files");
    }
    IdxFile images = IdxFile.read(imgPath, limit);
    IdxFile labels = IdxFile.read(dir.resolve(prefix + "-labels-idx1-ubyte.gz"), limit);
    int[] d = images.dims();
    if (d.length != 3 || d[1] != SIDE || d[2] != SIDE) {
      throw new IOException(imgPath + ": expected N x 28 x 28 images");
    }
    if (labels.dims().length != 1 || labels.dims()[0] != d[0]) {
      throw new IOException(dir + ": " + d[0] + " images but " + labels.dims()[0] + " labels");
    }
    for (byte b : labels.data()) {
      if (b < 0 || b >= CLASSES.size()) {
        throw new IOException(dir + ": label " + b + " out of range 0..9");
      }
    }
    return new FashionMnist(images.data(), labels.data(), d[0]);
  }

  /** Images as float32 (N, 1, 28, 28) in [-1, 1]. */
  public Tensor imagesTensor() {
    try (Scope s = Scope.open()) {
      Tensor u8 = Tensor.of(images, DType.UINT8, count, 1, SIDE, SIDE);
      return s.keep(u8.to(DType.FLOAT32).div(127.5).sub(1.0));
    }
  }

  /**
   * Images as float32 (N, 1, side, side) in [-1, 1], centred and padded with background (-1): the
   * 32×32 layout the demo models use, so a patch size of 4 or 8 tiles the image. Expand to RGB per
   * batch with {@code expand(-1, 3, -1, -1)}.
   */
  public Tensor paddedImagesTensor(int side) {
    if (side < SIDE || (side - SIDE) % 2 != 0) {
      throw new IllegalArgumentException(
          "side must be >= " + SIDE + " with even padding, got " + side);
    }
    int pad = (side - SIDE) / 2;
    // --- issue 10: a sentence instead of "integer overflow" (e.g. the 256-pixel default preset)
    // ---
    long floats = (long) count * side * side;
    if (floats > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          count
              + " Fashion-MNIST images padded to "
              + side
              + "x"
              + side
              + " need "
              + floats
              + " floats, more than one Java array holds; use an image size of at most "
              + (int) Math.sqrt((Integer.MAX_VALUE - 8.0) / count)
              + " (the demo's 32) or fewer training images");
    }
    float[] out = new float[(int) floats];
    java.util.Arrays.fill(out, -1f);
    for (int n = 0; n < count; n++) {
      int src = n * SIDE * SIDE;
      int dst = n * side * side + pad * side + pad;
      for (int r = 0; r < SIDE; r++) {
        for (int c = 0; c < SIDE; c++) {
          out[dst + r * side + c] = (images[src + r * SIDE + c] & 0xff) / 127.5f - 1f;
        }
      }
    }
    return Tensor.of(out, count, 1, side, side);
  }

  /** Labels as int64 (N). */
  public Tensor labelsTensor() {
    try (Scope s = Scope.open()) {
      return s.keep(Tensor.of(labels, DType.UINT8, count).to(DType.INT64));
    }
  }
}
