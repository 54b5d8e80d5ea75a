package dev.rectok.cli;

import dev.rectok.models.inception.InceptionV3;
import dev.rectok.models.inception.InceptionWeights;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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
}
