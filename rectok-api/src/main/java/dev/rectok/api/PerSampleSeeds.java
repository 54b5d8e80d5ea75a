package dev.rectok.api;

import java.util.Objects;

/**
 * The argument checks of {@link Generator#sample(long[], long[], GenerateOptions, Progress)},
 * shared by its default and by implementations. Stateless; thread-safe.
 */
public final class PerSampleSeeds {
  private PerSampleSeeds() {}

  /**
   * Checks one seed per label and a {@code firstSampleIndex} of −1 or 0.
   *
   * @param labels the labels (only their count is checked here)
   * @param seeds the per-sample seeds
   * @param options the options of the call
   * @return {@code options} with {@code firstSampleIndex} 0: the options of the equivalent
   *     one-sample calls
   * @throws IllegalArgumentException when the counts differ, there is no label, or {@code
   *     firstSampleIndex} is above 0
   */
  public static GenerateOptions check(long[] labels, long[] seeds, GenerateOptions options) {
    Objects.requireNonNull(labels, "labels");
    Objects.requireNonNull(seeds, "seeds");
    Objects.requireNonNull(options, "options");
    if (labels.length == 0) {
      throw new IllegalArgumentException("no labels: nothing to generate");
    }
    if (seeds.length != labels.length) {
      throw new IllegalArgumentException(
          "one seed per label: " + labels.length + " labels, " + seeds.length + " seeds");
    }
    if (options.firstSampleIndex() > 0) {
      throw new IllegalArgumentException(
          "per-sample seeds draw every sample as global index 0 of its seed; firstSampleIndex "
              + options.firstSampleIndex()
              + " is meaningless here (use -1 or 0)");
    }
    return new GenerateOptions(
        options.gridPoints(),
        options.method(),
        options.guidance(),
        options.guidanceScale(),
        options.intervalMin(),
        options.intervalMax(),
        options.cancelled(),
        0,
        options.precision());
  }
}
