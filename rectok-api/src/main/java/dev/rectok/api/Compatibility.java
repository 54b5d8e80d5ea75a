package dev.rectok.api;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Whether a tokenizer and a generator fit together: the generator's latents must have the
 * tokenizer's latent shape, and the tokenizer must carry latent statistics (the generator works in
 * the channel-normalized space). An immutable value; thread-safe.
 *
 * @param problems one sentence per mismatch; empty when they fit
 */
public record Compatibility(List<String> problems) {
  /**
   * Keeps an unmodifiable copy of the problems.
   *
   * @param problems one sentence per mismatch
   */
  public Compatibility {
    problems = List.copyOf(problems);
  }

  /**
   * Checks {@code tokenizer} against {@code generator} (both borrowed, only queried).
   *
   * @param tokenizer the tokenizer that would decode
   * @param generator the generator that would sample
   * @return the problems found, none when they fit
   */
  public static Compatibility of(Tokenizer tokenizer, Generator generator) {
    Objects.requireNonNull(tokenizer, "tokenizer");
    Objects.requireNonNull(generator, "generator");
    List<String> problems = new ArrayList<>();
    if (!Arrays.equals(tokenizer.latentShape(), generator.latentShape())) {
      problems.add(
          "the generator makes latents of shape "
              + Arrays.toString(generator.latentShape())
              + " but the tokenizer decodes "
              + Arrays.toString(tokenizer.latentShape()));
    }
    if (!tokenizer.hasStatistics()) {
      problems.add(
          "the tokenizer has no latent statistics, which generated latents need: compute them with "
              + "'rectok stats' and embed them with 'rectok convert --stats'");
    }
    return new Compatibility(problems);
  }

  /**
   * Whether there is no problem.
   *
   * @return true when the pair fits
   */
  public boolean compatible() {
    return problems.isEmpty();
  }

  /**
   * Returns normally when compatible.
   *
   * @throws IllegalArgumentException listing every problem otherwise
   */
  public void require() {
    if (!compatible()) {
      throw new IllegalArgumentException(
          "tokenizer and generator do not fit: " + String.join("; ", problems));
    }
  }
}
