package dev.rectok.models;

/**
 * The reference's resolution time shift, written once: {@code sqrt(h·w·c / 4096)} for a latent of
 * {@code c} channels on an {@code h × w} grid (√8 = 2.8284 for the release's 128×16×16). The
 * generator trains and samples on the time law shifted by it, and the tokenizer's flow semantic
 * distillation noises its latent with the same shift so that z_τ is a sample of the generator's
 * forward flow.
 *
 * <p>Stateless and thread-safe.
 */
public final class TimeShift {
  private TimeShift() {}

  /** {@code sqrt(h·w·c / 4096)}, evaluated in double as the reference does. */
  public static double resolution(long channels, long height, long width) {
    return Math.sqrt((double) (height * width * channels) / 4096.0);
  }
}
