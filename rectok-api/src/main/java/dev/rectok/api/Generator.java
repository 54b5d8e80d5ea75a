package dev.rectok.api;

/**
 * A class-conditional latent generator (DiT^DH with its transport and guidance).
 *
 * <p>Reproducible: the same labels, seed and options give the same latents on the same device.
 * Thread-safe: concurrent calls are allowed and equal serial ones (each call draws from its own
 * seeded generator). Owns native models: close it (after every call has returned).
 *
 * <p>Batch composition: the initial noise of a call is drawn for the whole batch from one seed, so
 * {@code sample([3, 7], seed)[0]} differs from {@code sample([3], seed)}. For results that depend
 * only on (label, seed), sample one label per call (concurrent calls are fine).
 */
public interface Generator extends AutoCloseable {

  /** {@return the channels, height and width of the latents it produces} */
  int[] latentShape();

  /** {@return the number of classes (labels are 0..classes−1)} */
  int numClasses();

  /**
   * Samples channel-normalized latents for {@code labels} from noise drawn with {@code seed}.
   *
   * @param labels one class label per sample (the batch)
   * @param seed the seed of the initial noise, drawn for the whole batch
   * @param options integrator, grid, guidance and cancellation
   * @param progress told about each step
   * @return channel-normalized latents, one per label
   * @throws IllegalArgumentException for a label out of range or AutoGuidance without a guide model
   * @throws ArithmeticException when sampling produces a NaN or infinite latent (e.g. an extreme
   *     guidance scale)
   * @throws java.util.concurrent.CancellationException when {@code options.cancelled()} turns true
   */
  Latents sample(long[] labels, long seed, GenerateOptions options, Progress progress);

  /**
   * Whether {@code tokenizer} can decode this generator's latents; see {@link Compatibility}.
   *
   * @param tokenizer the tokenizer that would decode (borrowed, only queried)
   * @return the problems found, none when they fit
   */
  default Compatibility compatibility(Tokenizer tokenizer) {
    return Compatibility.of(tokenizer, this);
  }

  /** Frees the models. */
  @Override
  void close();
}
