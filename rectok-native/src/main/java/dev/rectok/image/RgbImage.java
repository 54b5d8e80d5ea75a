package dev.rectok.image;

import java.util.Objects;

/**
 * An 8-bit RGB image as interleaved bytes in row-major HWC order ({@code data[(y*width+x)*3+c]}),
 * the layout of {@code numpy.array(pil_image)} for a PIL {@code "RGB"} image.
 *
 * <p>Immutable by convention: the array is not copied on construction or by {@link #data()}, so
 * callers must not modify it after handing it over. Safe to share between threads once built.
 *
 * @param width width in pixels, at least 1
 * @param height height in pixels, at least 1
 * @param data {@code width*height*3} bytes, read as unsigned
 */
public record RgbImage(int width, int height, byte[] data) {

  /** Checks the sizes. */
  public RgbImage {
    Objects.requireNonNull(data, "data");
    if (width < 1 || height < 1) {
      throw new IllegalArgumentException(
          "image size must be positive, got " + width + "x" + height);
    }
    if ((long) width * height * 3 != data.length) {
      throw new IllegalArgumentException(
          "an RGB image of "
              + width
              + "x"
              + height
              + " needs "
              + (long) width * height * 3
              + " bytes, got "
              + data.length);
    }
  }

  /** Channel {@code c} of pixel ({@code x}, {@code y}) as 0..255. */
  public int get(int x, int y, int c) {
    return data[(y * width + x) * 3 + c] & 0xff;
  }

  /**
   * The {@code w}x{@code h} region at ({@code left}, {@code top}), which must lie inside the image.
   */
  public RgbImage crop(int left, int top, int w, int h) {
    if (left < 0 || top < 0 || w < 1 || h < 1 || left + w > width || top + h > height) {
      throw new IllegalArgumentException(
          "crop "
              + w
              + "x"
              + h
              + " at ("
              + left
              + ","
              + top
              + ") is outside a "
              + width
              + "x"
              + height
              + " image");
    }
    byte[] out = new byte[w * h * 3];
    for (int y = 0; y < h; y++) {
      System.arraycopy(data, ((top + y) * width + left) * 3, out, y * w * 3, w * 3);
    }
    return new RgbImage(w, h, out);
  }
}
