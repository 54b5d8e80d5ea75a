package dev.rectok.api;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A visual tokenizer: images to latents and back (RecTok: a 256×256 image to 128 × 16 × 16).
 * Images are preprocessed as the reference does (ADM centre crop to {@link #imageSize()}, the
 * exact PIL resampling) and decoded images are quantized by truncation, as the reference saves
 * them.
 *
 * <p>Thread-safe: concurrent calls are allowed (the model is only read). Owns a native model:
 * close it after the last call returned.
 */
public interface Tokenizer extends AutoCloseable {

  /** Side of the square images it encodes and decodes. */
  int imageSize();

  /** Channels, height and width of one sample's latent. */
  int[] latentShape();

  /**
   * Encodes images to latents: the posterior mean, or a sample from the posterior when
   * {@code sample} is true (drawn with {@code seed}); channel-normalized with the latent
   * statistics when {@code normalize} is true (the generator's space).
   *
   * @throws IllegalStateException when {@code normalize} is asked for but no statistics are loaded
   */
  Latents encode(List<BufferedImage> images, boolean sample, long seed, boolean normalize);

  /** The posterior mean, channel-normalized: what the generator consumes. */
  default Latents encode(List<BufferedImage> images) {
    return encode(images, false, 0, true);
  }

  /** Decodes latents (normalized or raw, as they say) to images of {@link #imageSize()}. */
  List<BufferedImage> decode(Latents latents);

  /** Encodes then decodes (the reference's {@code reconstruct}). */
  default List<BufferedImage> reconstruct(List<BufferedImage> images) {
    return decode(encode(images, false, 0, false));
  }

  /**
   * Reads image files.
   *
   * @throws IOException naming a file that is missing or not a readable image
   */
  List<BufferedImage> read(List<Path> files) throws IOException;
}
