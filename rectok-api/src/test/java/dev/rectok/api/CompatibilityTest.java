package dev.rectok.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Compatibility is exactly "same latent shape and statistics present", with one sentence per
 * problem.
 */
class CompatibilityTest {

  static Tokenizer tokenizer(int[] shape, boolean stats) {
    return new Tokenizer() {
      public int imageSize() {
        return 32;
      }

      public boolean hasStatistics() {
        return stats;
      }

      public int[] latentShape() {
        return shape.clone();
      }

      public Latents encode(
          List<BufferedImage> images, boolean sample, long seed, boolean normalize) {
        throw new UnsupportedOperationException();
      }

      public List<BufferedImage> decode(Latents latents) {
        throw new UnsupportedOperationException();
      }

      public List<BufferedImage> read(List<Path> files) {
        throw new UnsupportedOperationException();
      }

      public void close() {}
    };
  }

  static Generator generator(int[] shape) {
    return new Generator() {
      public int[] latentShape() {
        return shape.clone();
      }

      public int numClasses() {
        return 10;
      }

      public Latents sample(long[] labels, long seed, GenerateOptions options, Progress progress) {
        throw new UnsupportedOperationException();
      }

      public void close() {}
    };
  }

  @Property(tries = 200)
  void compatibleExactlyWhenShapesMatchAndStatisticsArePresent(
      @ForAll @IntRange(min = 1, max = 4) int c1,
      @ForAll @IntRange(min = 1, max = 4) int h1,
      @ForAll @IntRange(min = 1, max = 4) int c2,
      @ForAll @IntRange(min = 1, max = 4) int h2,
      @ForAll boolean stats) {
    Compatibility c =
        generator(new int[] {c2, h2, h2}).compatibility(tokenizer(new int[] {c1, h1, h1}, stats));
    boolean same = c1 == c2 && h1 == h2;
    assertThat(c.compatible()).isEqualTo(same && stats);
    assertThat(c.problems()).hasSize((same ? 0 : 1) + (stats ? 0 : 1));
    if (!c.compatible()) {
      assertThatThrownBy(c::require)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(String.join("; ", c.problems()));
    } else {
      c.require();
    }
  }

  @Property(tries = 1)
  void theProblemsSayWhatToDo() {
    Compatibility c =
        Compatibility.of(
            tokenizer(new int[] {32, 4, 4}, false), generator(new int[] {128, 16, 16}));
    assertThat(c.problems().get(0)).contains("[128, 16, 16]").contains("[32, 4, 4]");
    assertThat(c.problems().get(1)).contains("rectok stats").contains("--stats");
  }
}
