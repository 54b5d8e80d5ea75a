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
 * only on (label, seed), sample one label per call (concurrent calls are fine), or batch them with
 * one seed per sample ({@link #sample(long[], long[], GenerateOptions, Progress)}: equal to
 * one-sample calls up to the rounding of batched arithmetic).
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

  // --- issue 13: per-sample seeds ---
  /**
   * Samples channel-normalized latents for {@code labels}, sample {@code i} from its own seed: its
   * initial noise comes from {@code (seeds[i], global index 0)} alone, bit for bit the noise of a
   * one-sample call {@code sample(new long[] {labels[i]}, seeds[i], options with firstSampleIndex
   * 0, progress)}. So requests with different seeds can share one batch (what a server that gathers
   * concurrent requests does), and what sample {@code i} comes out as depends on the rest of the
   * batch only through the rounding of batched arithmetic (a batched GEMM sums in another order
   * than a one-row one), never through its noise.
   *
   * <p>The default implementation makes one one-sample call per label (correct, not batched);
   * implementations override it to run the whole batch as one call. Thread-safe like {@link
   * #sample(long[], long, GenerateOptions, Progress)}; the arrays are only read (borrowed for the
   * call), the returned latents belong to the caller.
   *
   * @param labels one class label per sample (the batch)
   * @param seeds one seed per sample, as many as labels
   * @param options integrator, grid, guidance and cancellation; its {@code firstSampleIndex} must
   *     be −1 or 0 (every sample here is global index 0 of its own seed)
   * @param progress told about each step
   * @return channel-normalized latents, one per label, in order
   * @throws IllegalArgumentException for a label out of range, {@code seeds.length !=
   *     labels.length}, a {@code firstSampleIndex} above 0, or AutoGuidance without a guide model
   * @throws ArithmeticException when sampling produces a NaN or infinite latent
   * @throws java.util.concurrent.CancellationException when {@code options.cancelled()} turns true
   */
  default Latents sample(long[] labels, long[] seeds, GenerateOptions options, Progress progress) {
    GenerateOptions one = PerSampleSeeds.check(labels, seeds, options);
    float[][] rows = new float[labels.length][];
    Latents first = null;
    for (int i = 0; i < labels.length; i++) {
      Latents z = sample(new long[] {labels[i]}, seeds[i], one, progress);
      first = first == null ? z : first;
      rows[i] = z.values();
    }
    int n = rows[0].length;
    float[] all = new float[n * labels.length];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, all, i * n, n);
    }
    return new Latents(
        all, labels.length, first.channels(), first.height(), first.width(), first.normalized());
  }

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
