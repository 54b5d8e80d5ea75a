package dev.rectok.image;

import dev.rectok.torch.io.InputLimits;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Bounded image decoding: the pixel count is read from the image's header and checked against a
 * limit before any pixel is decoded, so a small compressed file that declares a huge canvas (a 0.9
 * MB PNG of 30000 x 30000) is refused in constant memory instead of allocating gigabytes.
 *
 * <p>The limit is {@value #DEFAULT_MAX_PIXELS} pixels (PIL's {@code Image.MAX_IMAGE_PIXELS}),
 * overridden by the system property {@code rectok.image.maxPixels}. Any reader of image files in
 * the SDK should go through {@link #read}.
 *
 * <p>Stateless and thread-safe.
 */
public final class ImageLimits {
  /** Default of {@code rectok.image.maxPixels}: PIL's decompression-bomb limit. */
  public static final long DEFAULT_MAX_PIXELS = 89_478_485L;

  /** The system property overriding {@link #DEFAULT_MAX_PIXELS}. */
  public static final String MAX_PIXELS_PROPERTY = "rectok.image.maxPixels";

  // width * height * 3 bytes must fit a Java array.
  private static final long HARD_MAX_PIXELS = (Integer.MAX_VALUE - 8) / 4;

  private ImageLimits() {}

  /** The largest pixel count (width times height) accepted. */
  public static long maxPixels() {
    String v = System.getProperty(MAX_PIXELS_PROPERTY);
    if (v == null || v.isBlank()) {
      return DEFAULT_MAX_PIXELS;
    }
    try {
      long n = Long.parseLong(v.strip());
      if (n > 0) {
        return Math.min(n, HARD_MAX_PIXELS);
      }
    } catch (NumberFormatException e) {
      // fall through to the message
    }
    throw new IllegalArgumentException(
        "system property " + MAX_PIXELS_PROPERTY + " must be a positive integer, got '" + v + "'");
  }

  /**
   * Fails if an image of {@code width} x {@code height} exceeds the pixel limit.
   *
   * @param what the file or source, for the message
   * @throws IOException naming the source, its size and the limit
   */
  public static void check(Object what, long width, long height) throws IOException {
    long max = maxPixels();
    if (width <= 0 || height <= 0) {
      throw new IOException(
          what + ": the image header declares an empty size " + width + "x" + height);
    }
    if (width > max || height > max || width * height > max) {
      throw new IOException(
          what
              + ": the image header declares "
              + width
              + "x"
              + height
              + " pixels, more than the "
              + max
              + "-pixel limit (raise it with -D"
              + MAX_PIXELS_PROPERTY
              + "=N if the image is trusted)");
    }
  }

  /**
   * Reads an image file, checking its declared size before decoding.
   *
   * @throws IOException when the file is missing or not a regular file, no ImageIO reader
   *     understands it, its declared size exceeds the limit, or it is damaged; the message names
   *     the file
   */
  public static BufferedImage read(Path file) throws IOException {
    InputLimits.requireRegularFile(file, "image file");
    try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
      if (in == null) {
        throw new IOException("cannot open image " + file);
      }
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) {
        throw new IOException("unreadable image " + file + ": not a format ImageIO can decode");
      }
      ImageReader reader = readers.next();
      try {
        reader.setInput(in, true, true);
        check(file, reader.getWidth(0), reader.getHeight(0));
        return reader.read(0);
      } finally {
        reader.dispose();
      }
    } catch (IOException e) {
      if (e.getMessage() != null && e.getMessage().contains(file.toString())) {
        throw e;
      }
      throw new IOException("cannot decode image " + file + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      // ImageIO's decoders report some malformed headers and data unchecked
      throw new IOException("cannot decode image " + file + " (damaged or malformed): " + e, e);
    }
  }
}
