package dev.rectok.image;

import dev.rectok.torch.Tensor;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * The reference's image preprocessing (ADM {@code center_crop_arr} in {@code utils/loader.py}, then
 * torchvision {@code ToTensor} and {@code Normalize([0.5]*3, [0.5]*3)}), reproducing Pillow bit for
 * bit:
 *
 * <ol>
 *   <li>convert to RGB;
 *   <li>while the short side is at least twice the target, {@code resize((W//2, H//2), BOX)};
 *   <li>{@code resize((round(W*s), round(H*s)), BICUBIC)} with {@code s = size/min(W,H)} and
 *       Python's round-half-even;
 *   <li>centre crop at {@code ((H-size)//2, (W-size)//2)};
 *   <li>{@code (u8/255 - 0.5)/0.5} in float32, NCHW.
 * </ol>
 *
 * <p>And the inverse used when saving generated images: {@code clamp(x*0.5+0.5, 0, 1)*255}
 * truncated to uint8 (the reference truncates, it does not round).
 *
 * <p>Immutable and thread-safe. Every returned {@link Tensor} is owned by the caller (or by the
 * caller's open {@link dev.rectok.torch.Scope}); input tensors are only read.
 */
public final class AdmPreprocess {
  /** The reference's image size. */
  public static final int DEFAULT_SIZE = 256;

  private final int size;

  /** Preprocessing to {@code size}x{@code size} crops. */
  public AdmPreprocess(int size) {
    if (size < 1) {
      throw new IllegalArgumentException("size must be positive, got " + size);
    }
    this.size = size;
  }

  /** Preprocessing to 256x256 crops, as the reference. */
  public AdmPreprocess() {
    this(DEFAULT_SIZE);
  }

  /** The crop size. */
  public int size() {
    return size;
  }

  // ------------------------------------------------------------------ reading

  /**
   * Reads an image file through ImageIO and converts it to RGB.
   *
   * @throws IOException when the file is missing, no ImageIO reader understands it, or its header
   *     declares more pixels than {@link ImageLimits#maxPixels()}
   */
  public static RgbImage read(Path file) throws IOException {
    // --- issue 10: the pixel limit is checked from the header before decoding ---
    BufferedImage img = ImageLimits.read(file);
    return toRgb(img);
  }

  /**
   * PIL's {@code convert("RGB")}: alpha is dropped (not composited), grey is replicated, palette
   * entries are looked up. 8-bit grey rasters (with or without alpha) are read directly because
   * {@link BufferedImage#getRGB} would push them through a linear-to-sRGB conversion and change the
   * values. 16-bit images go through {@code getRGB} and are not guaranteed PIL-identical.
   */
  public static RgbImage toRgb(BufferedImage img) {
    int w = img.getWidth();
    int h = img.getHeight();
    if ((long) w * h * 3 > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "a "
              + w
              + "x"
              + h
              + " image is too large to convert (more than "
              + (Integer.MAX_VALUE - 8) / 3
              + " pixels)");
    }
    byte[] out = new byte[w * h * 3];
    boolean grey8 =
        img.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY
            && img.getColorModel().getComponentSize(0) == 8
            && !(img.getColorModel() instanceof IndexColorModel);
    if (grey8) {
      Raster r = img.getRaster();
      int[] row = new int[w];
      for (int y = 0; y < h; y++) {
        r.getSamples(0, y, w, 1, 0, row);
        for (int x = 0; x < w; x++) {
          byte v = (byte) row[x];
          int o = (y * w + x) * 3;
          out[o] = v;
          out[o + 1] = v;
          out[o + 2] = v;
        }
      }
    } else {
      int[] row = new int[w];
      for (int y = 0; y < h; y++) {
        img.getRGB(0, y, w, 1, row, 0, w);
        for (int x = 0; x < w; x++) {
          int p = row[x];
          int o = (y * w + x) * 3;
          out[o] = (byte) (p >> 16);
          out[o + 1] = (byte) (p >> 8);
          out[o + 2] = (byte) p;
        }
      }
    }
    return new RgbImage(w, h, out);
  }

  // ------------------------------------------------------------------ forward

  /**
   * The number of 2x BOX reductions {@code center_crop_arr} applies to a {@code w}x{@code h} image.
   */
  public int boxHalvings(int w, int h) {
    int n = 0;
    while (Math.min(w, h) >= 2 * size) {
      w /= 2;
      h /= 2;
      n++;
    }
    return n;
  }

  /** {@code center_crop_arr(image, size)}: the uint8 crop, exactly as Pillow produces it. */
  public RgbImage centerCrop(RgbImage image) {
    RgbImage img = image;
    while (Math.min(img.width(), img.height()) >= 2 * size) {
      img = PilResample.resize(img, img.width() / 2, img.height() / 2, PilResample.Filter.BOX);
    }
    double scale = (double) size / Math.min(img.width(), img.height());
    // Python's round() on a float is round-half-even, which Math.rint implements.
    int w = (int) Math.rint(img.width() * scale);
    int h = (int) Math.rint(img.height() * scale);
    img = PilResample.resize(img, w, h, PilResample.Filter.BICUBIC);
    int top = (img.height() - size) / 2;
    int left = (img.width() - size) / 2;
    return img.crop(left, top, size, size);
  }

  /**
   * ToTensor + Normalize of an RGB image of any size: a float32 CPU tensor (3, H, W) in [-1, 1],
   * {@code (u/255 - 0.5)/0.5} in float32 as torchvision computes it.
   */
  public static Tensor toTensor(RgbImage img) {
    return Tensor.of(normalize(img), 3, img.height(), img.width());
  }

  /** The float32 CHW values of {@link #toTensor}. */
  static float[] normalize(RgbImage img) {
    int hw = img.width() * img.height();
    float[] out = new float[3 * hw];
    byte[] d = img.data();
    for (int i = 0; i < hw; i++) {
      for (int c = 0; c < 3; c++) {
        out[c * hw + i] = ((d[i * 3 + c] & 0xff) / 255f - 0.5f) / 0.5f;
      }
    }
    return out;
  }

  /** Crop and normalise one image: float32 CPU tensor (1, 3, size, size). */
  public Tensor apply(RgbImage image) {
    return Tensor.of(normalize(centerCrop(image)), 1, 3, size, size);
  }

  /** Reads, crops and normalises one file: float32 CPU tensor (1, 3, size, size). */
  public Tensor apply(Path file) throws IOException {
    return apply(read(file));
  }

  /** Reads, crops and normalises several files into one batch (N, 3, size, size). */
  public Tensor applyAll(List<Path> files) throws IOException {
    if (files.isEmpty()) {
      throw new IllegalArgumentException("no image files given");
    }
    int per = 3 * size * size;
    float[] out = new float[files.size() * per];
    for (int i = 0; i < files.size(); i++) {
      System.arraycopy(normalize(centerCrop(read(files.get(i)))), 0, out, i * per, per);
    }
    return Tensor.of(out, files.size(), 3, size, size);
  }

  // ------------------------------------------------------------------ inverse

  /**
   * The inverse of the normalisation for a (3, H, W) or (N, 3, H, W) tensor of any float dtype and
   * device: {@code clamp(x*0.5 + 0.5, 0, 1)*255} in float32, truncated to uint8.
   */
  public static RgbImage[] toImages(Tensor images) {
    long[] s = images.shape();
    if (!(s.length == 3 && s[0] == 3) && !(s.length == 4 && s[1] == 3)) {
      throw new IllegalArgumentException("expected (3,H,W) or (N,3,H,W) images, got " + images);
    }
    int n = s.length == 4 ? (int) s[0] : 1;
    int h = (int) s[s.length - 2];
    int w = (int) s[s.length - 1];
    float[] v;
    try (Tensor f = images.to(dev.rectok.api.DType.FLOAT32)) {
      v = f.toFloatArray();
    }
    int hw = h * w;
    RgbImage[] out = new RgbImage[n];
    for (int b = 0; b < n; b++) {
      byte[] d = new byte[hw * 3];
      int base = b * 3 * hw;
      for (int c = 0; c < 3; c++) {
        for (int i = 0; i < hw; i++) {
          d[i * 3 + c] = (byte) toUint8(v[base + c * hw + i]);
        }
      }
      out[b] = new RgbImage(w, h, d);
    }
    return out;
  }

  /**
   * One value of the inverse: float32 {@code clamp(x*0.5+0.5,0,1)*255}, truncated. NaN maps to 0.
   */
  static int toUint8(float x) {
    float y = x * 0.5f + 0.5f;
    y = Math.min(Math.max(y, 0f), 1f);
    return (int) (y * 255f);
  }

  /** A {@link BufferedImage#TYPE_INT_RGB} copy of {@code img}. */
  public static BufferedImage toBufferedImage(RgbImage img) {
    int w = img.width();
    int h = img.height();
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    int[] row = new int[w];
    byte[] d = img.data();
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int o = (y * w + x) * 3;
        row[x] = (d[o] & 0xff) << 16 | (d[o + 1] & 0xff) << 8 | (d[o + 2] & 0xff);
      }
      out.setRGB(0, y, w, 1, row, 0, w);
    }
    return out;
  }

  /** Writes {@code img} as a PNG file. */
  public static void writePng(RgbImage img, Path file) throws IOException {
    if (!ImageIO.write(toBufferedImage(img), "png", file.toFile())) {
      throw new IOException("no PNG writer available for " + file);
    }
  }

  /**
   * Writes (3,H,W) or (N,3,H,W) images in [-1,1] as PNG files, one per sample, to {@code files}.
   */
  public static void writePngs(Tensor images, List<Path> files) throws IOException {
    RgbImage[] imgs = toImages(images);
    if (imgs.length != files.size()) {
      throw new IllegalArgumentException(
          imgs.length + " images but " + files.size() + " file names");
    }
    for (int i = 0; i < imgs.length; i++) {
      writePng(imgs[i], files.get(i));
    }
  }
}
