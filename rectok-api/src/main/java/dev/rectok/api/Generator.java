package dev.rectok.api;

/**
 * A class-conditional latent generator (DiT^DH with its transport and guidance).
 *
 * <p>Reproducible: the same labels, seed and options give the same latents on the same device.
 * Thread-safe: concurrent calls are allowed and equal serial ones (each call draws from its own
 * seeded generator). Owns native models: close it (after every call has returned).
 *
 * <p>Batch composition: the initial noise of a call is drawn for the whole batch from one seed,
 * so {@code sample([3, 7], seed)[0]} differs from {@code sample([3], seed)}. For results that
 * depend only on (label, seed), sample one label per call (concurrent calls are fine).
 */
public interface Generator extends AutoCloseable {

  /** Channels, height and width of the latents it produces. */
  int[] latentShape();

  /** Number of classes (labels are 0..classes−1). */
  int numClasses();

  /**
   * Samples channel-normalized latents for {@code labels} from noise drawn with {@code seed}.
   *
   * @throws IllegalArgumentException for a label out of range or AutoGuidance without a guide model
   * @throws java.util.concurrent.CancellationException when {@code options.cancelled()} turns true
   */
  Latents sample(long[] labels, long seed, GenerateOptions options, Progress progress);

  /** Whether {@code tokenizer} can decode this generator's latents; see {@link Compatibility}. */
  default Compatibility compatibility(Tokenizer tokenizer) {
    return Compatibility.of(tokenizer, this);
  }

  /** Frees the models. */
  @Override
  void close();
}
