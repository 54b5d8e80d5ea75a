package dev.rectok.generate;

import dev.rectok.api.Device;
import dev.rectok.models.dit.DiTCheckpoints;
import dev.rectok.models.dit.DiTConfig;
import dev.rectok.models.dit.DiTwDDTHead;
import dev.rectok.models.golden.GoldenCase;
import java.nio.file.Path;

/** The golden case3b networks (a DiT^DH and its AutoGuidance guide) as a CPU generator. */
final class Case3b {
  private Case3b() {}

  static final Path DIR = Path.of(System.getProperty("rectok.golden.dir"), "case3b_dit_sampling");

  /** A new generator over the case's weights; the caller closes it. */
  static DiTGenerator generator() throws Exception {
    try (GoldenCase g = GoldenCase.open(DIR)) {
      DiTwDDTHead net = new DiTwDDTHead(DiTConfig.fromConstructorKwargs(g.config()));
      DiTwDDTHead guide =
          new DiTwDDTHead(
              DiTConfig.fromConstructorKwargs(g.config().get("guide_constructor_kwargs")));
      DiTCheckpoints.load(net, DIR.resolve("weights.pth"));
      DiTCheckpoints.load(guide, DIR.resolve("guide_weights.pth"));
      return new DiTGenerator(net, guide, Device.CPU);
    }
  }
}
