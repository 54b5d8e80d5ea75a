package dev.rectok.generate;

import dev.rectok.api.Device;
import dev.rectok.models.dit.DiTCheckpoints;
import dev.rectok.models.dit.DiTConfig;
import dev.rectok.models.dit.DiTwDDTHead;
import dev.rectok.models.golden.GoldenCase;
import java.io.IOException;
import java.nio.file.Path;

/** The golden case3b networks (a DiT^DH and its AutoGuidance guide), for tests. */
public final class Case3b {
  private Case3b() {}

  /** The case's folder under {@code rectok.golden.dir}. */
  public static final Path DIR =
      Path.of(System.getProperty("rectok.golden.dir"), "case3b_dit_sampling");

  /**
   * The main network and the guide, loaded, in eval mode; owned by the caller.
   *
   * @return {main, guide}
   * @throws IOException when the golden files cannot be read
   */
  public static DiTwDDTHead[] networks() throws IOException {
    try (GoldenCase g = GoldenCase.open(DIR)) {
      DiTwDDTHead net = new DiTwDDTHead(DiTConfig.fromConstructorKwargs(g.config()));
      DiTwDDTHead guide =
          new DiTwDDTHead(
              DiTConfig.fromConstructorKwargs(g.config().get("guide_constructor_kwargs")));
      DiTCheckpoints.load(net, DIR.resolve("weights.pth"));
      DiTCheckpoints.load(guide, DIR.resolve("guide_weights.pth"));
      net.eval();
      guide.eval();
      return new DiTwDDTHead[] {net, guide};
    }
  }

  /** A new CPU generator over the case's weights; the caller closes it. */
  static DiTGenerator generator() throws IOException {
    DiTwDDTHead[] nets = networks();
    return new DiTGenerator(nets[0], nets[1], Device.CPU);
  }
}
