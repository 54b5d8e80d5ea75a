package dev.rectok.api;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A visual tokenizer: images to latents and back (RecTok: a 256×256 image to 128 × 16 × 16). Images
 * are preprocessed as the reference does (ADM centre crop to {@link #imageSize()}, the exact PIL
 * resampling) and decoded images are quantized by truncation, as the reference saves them.
 *
 * <p>What happens to an image is chosen, not silent: {@link #encode}, {@link #decode} and {@link
 * #reconstruct(List)} work at the model's size, so any other image is centre-cropped to a square
 * and resized (ADM: halved with a box filter while at least twice the size, then bicubic), and
 * images come back as {@code TYPE_INT_RGB} of {@link #imageSize()}. {@link #reconstruct(
 * BufferedImage, ImageFit)} keeps the input's width, height and type instead: it tiles or resizes
 * as the caller chooses and converts back (a grayscale image stays grayscale). Every image entry
 * point refuses images above the backend's pixel limit (see the implementation's {@code
 * ImageLimits}), naming the size and the limit: an {@link IllegalArgumentException} for an image in
 * memory, an {@link IOException} for a file (checked from its header, before decoding).
 *
 * <p>Batch composition: the encoder and decoder work per sample, but BLAS may block a batch
 * differently from a single image, so a latent may differ in the last bits with the batch it came
 * in; a posterior sample ({@code sample = true}) draws its noise for the whole batch from one seed,
 * so it depends on the image's position in the batch. For results that depend only on the image,
 * call with one image at a time (concurrent calls are fine).
 *
 * <p>Thread-safe: concurrent calls are allowed (the model is only read). Owns a native model: close
 * it after the last call returned.
 */
public interface Tokenizer extends AutoCloseable {

  /** {@return the side of the square images it encodes and decodes} */
  int imageSize();

  /**
   * Whether latent statistics are loaded: needed for normalized latents ({@code normalize = true}
   * in {@link #encode(List, boolean, long, boolean)}) and so for generation.
   *
   * @return true when the model file carried latent statistics
   */
  boolean hasStatistics();

  /** {@return the channels, height and width of one sample's latent} */
  int[] latentShape();

  /**
   * Encodes images to latents: the posterior mean, or a sample from the posterior when {@code
   * sample} is true (drawn with {@code seed}); channel-normalized with the latent statistics when
   * {@code normalize} is true (the generator's space).
   *
   * @param images the images, any size (centre-cropped and resized to {@link #imageSize()})
   * @param sample draw from the posterior instead of taking its mean
   * @param seed the seed of the posterior sample (unused for the mean)
   * @param normalize apply the latent statistics
   * @return one latent per image, in order
   * @throws IllegalStateException when {@code normalize} is asked for but no statistics are loaded
   */
  Latents encode(List<BufferedImage> images, boolean sample, long seed, boolean normalize);

  /**
   * The posterior mean, channel-normalized: what the generator consumes.
   *
   * @param images the images, any size
   * @return one normalized latent per image
   */
  default Latents encode(List<BufferedImage> images) {
    return encode(images, false, 0, true);
  }

  /**
   * Decodes latents (normalized or raw, as they say) to images of {@link #imageSize()}.
   *
   * @param latents latents of {@link #latentShape()}
   * @return one {@code TYPE_INT_RGB} image per latent
   */
  List<BufferedImage> decode(Latents latents);

  /**
   * Encodes then decodes (the reference's {@code reconstruct}).
   *
   * @param images the images, any size (centre-cropped and resized)
   * @return one {@code TYPE_INT_RGB} image of {@link #imageSize()} per input
   */
  default List<BufferedImage> reconstruct(List<BufferedImage> images) {
    return decode(encode(images, false, 0, false));
  }

  /**
   * Reconstructs one image of any size and type and returns it with the same width, height and
   * {@link BufferedImage#getType() type}: {@link ImageFit#TILE} runs the model on square tiles of
   * {@link #imageSize()} (the edge tiles padded by repeating the border pixels), {@link
   * ImageFit#RESIZE} resizes the whole image to the model's size and the result back (bilinear).
   * Colour images pass through the model as RGB; a grayscale one comes back as grayscale.
   *
   * @param image any image
   * @param fit how to map it onto the model's square input
   * @return a new image with the input's width, height and type
   * @throws IllegalArgumentException for an image above the pixel limit
   */
  default BufferedImage reconstruct(BufferedImage image, ImageFit fit) {
    return ImageFits.reconstruct(this, image, fit);
  }

  /**
   * Reads image files.
   *
   * @param files the files (PNG, JPEG, BMP, GIF)
   * @return the decoded images, in order
   * @throws IOException naming a file that is missing or not a readable image, or one above the
   *     pixel limit (checked from the header, before decoding)
   */
  List<BufferedImage> read(List<Path> files) throws IOException;

  /** Frees the model; no checked exception. Call it after every other call returned. */
  @Override
  void close();
}
