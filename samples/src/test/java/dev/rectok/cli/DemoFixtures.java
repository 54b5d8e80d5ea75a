package dev.rectok.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.models.inception.InceptionV3;
import dev.rectok.models.inception.InceptionWeights;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/** What the CLI's sampling and evaluation tests share: the demo models and stand-in weights. */
final class DemoFixtures {
  private DemoFixtures() {}

  static final Path MODELS = Path.of("models/fashion-mnist");

  static String s(Path p) {
    return p.toString();
  }

  /** {@code sample} on the demo generator and tokenizer into {@code out}, with more options. */
  static List<String> sample(Path out, String... options) {
    List<String> args = new ArrayList<>();
    args.addAll(
        List.of(
            "sample",
            "--generator",
            s(MODELS.resolve("generator.safetensors")),
            "--tokenizer",
            s(MODELS.resolve("tokenizer.safetensors"))));
    args.addAll(List.of(options));
    args.addAll(List.of("--out", s(out)));
    return args;
  }

  /** Inception weights from the golden recipe (the real file cannot be downloaded here). */
  static Path inceptionWeights(Path dir) throws Exception {
    Path file = dir.resolve("inception.safetensors");
    try (InceptionV3 net = InceptionWeights.fromRecipe(7001)) {
      InceptionWeights.save(net, file, Map.of());
    }
    return file;
  }

  /** The 8-bit samples of a PNG, row by row, channel by channel. */
  static int[] pixels(Path png) throws IOException {
    BufferedImage im = ImageIO.read(png.toFile());
    return im.getRaster().getPixels(0, 0, im.getWidth(), im.getHeight(), (int[]) null);
  }

  /**
   * Asserts two 8-bit sample arrays equal up to float32 rounding. Another batch size or shard
   * changes the rounding inside the network (a GEMM's result depends on its row count), which can
   * move a truncated pixel value by one level; a larger difference, or more than 1% of the values
   * moved, is a real one.
   */
  static void assertSameUpToRounding(String what, int[] expected, int[] actual) {
    assertThat(actual.length).as(what + ": sample count").isEqualTo(expected.length);
    int moved = 0;
    for (int i = 0; i < expected.length; i++) {
      int d = Math.abs(expected[i] - actual[i]);
      assertThat(d)
          .as("%s: value %d differs by more than one level", what, i)
          .isLessThanOrEqualTo(1);
      moved += d;
    }
    assertThat(moved)
        .as(what + ": values moved by one level")
        .isLessThanOrEqualTo(expected.length / 100);
  }

  static void assertSameUpToRounding(String what, Path expectedPng, Path actualPng)
      throws IOException {
    assertSameUpToRounding(what, pixels(expectedPng), pixels(actualPng));
  }
}
