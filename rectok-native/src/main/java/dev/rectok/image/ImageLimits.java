package dev.rectok.image;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * The largest image (in pixels) the SDK accepts, so a 6000 × 6000 upload cannot exhaust memory.
 * Files are checked from their header, before any pixel is decoded. An immutable value;
 * thread-safe.
 *
 * @param maxPixels width × height above which an image is refused
 */
public record ImageLimits(long maxPixels) {
  /** The default: 4096 × 4096 pixels. */
  public static final long DEFAULT_MAX_PIXELS = 4096L * 4096L;

  /** System property that overrides the default for the whole process. */
  public static final String PROPERTY = "rectok.image.maxPixels";

  public ImageLimits {
    if (maxPixels < 1) {
      throw new IllegalArgumentException("maxPixels must be at least 1, got " + maxPixels);
    }
  }

  /** The process-wide limit: {@value #PROPERTY} when set, else {@link #DEFAULT_MAX_PIXELS}. */
  public static ImageLimits current() {
    String p = System.getProperty(PROPERTY);
    if (p == null || p.isBlank()) {
      return new ImageLimits(DEFAULT_MAX_PIXELS);
    }
    try {
      return new ImageLimits(Long.parseLong(p.trim()));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("-D" + PROPERTY + "=" + p + " is not a pixel count >= 1", e);
    }
  }

  /**
   * Returns normally when a {@code width} × {@code height} image is within the limit.
   *
   * @param what names the image in the message (a file name, "image 3")
   * @throws IllegalArgumentException naming the image, its size, the limit and how to raise it
   */
  public void check(long width, long height, String what) {
    if (width * height > maxPixels) {
      throw new IllegalArgumentException(what + " is " + width + "x" + height + " = " + width * height
          + " pixels, above the limit of " + maxPixels + " (raise it with -D" + PROPERTY + "=N)");
    }
  }

  /** {@link #check(long, long, String)} for a decoded image. */
  public void check(BufferedImage image, String what) {
    check(image.getWidth(), image.getHeight(), what);
  }

  /**
   * Checks an image file's size from its header, without decoding the pixels.
   *
   * @throws IOException naming the file when it is above the limit (or its header is unreadable
   *     by a reader that recognized the format)
   */
  public void checkFile(Path file) throws IOException {
    try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
      if (in == null) {
        return; // not a file ImageIO can open; the decoder names the problem
      }
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) {
        return;
      }
      ImageReader r = readers.next();
      try {
        r.setInput(in, true, true);
        check(r.getWidth(0), r.getHeight(0), "image " + file);
      } catch (IllegalArgumentException e) {
        throw new IOException(e.getMessage(), e);
      } finally {
        r.dispose();
      }
    }
  }
}
