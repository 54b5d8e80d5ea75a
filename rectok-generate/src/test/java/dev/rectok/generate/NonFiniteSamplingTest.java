package dev.rectok.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.Device;
import dev.rectok.api.GenerateOptions;
import dev.rectok.api.Latents;
import dev.rectok.api.Progress;
import dev.rectok.models.dit.DiTCheckpoints;
import dev.rectok.models.dit.DiTConfig;
import dev.rectok.models.dit.DiTwDDTHead;
import dev.rectok.models.golden.GoldenCase;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Issue 10: sampling that diverges fails with a message instead of returning NaN/Inf latents. */
class NonFiniteSamplingTest {
  private static final Path DIR =
      Path.of(System.getProperty("rectok.golden.dir"), "case3b_dit_sampling");

  @Test
  void anExtremeGuidanceScaleFailsInsteadOfReturningInfiniteLatents() throws Exception {
    try (GoldenCase g = GoldenCase.open(DIR)) {
      DiTwDDTHead net = new DiTwDDTHead(DiTConfig.fromConstructorKwargs(g.config()));
      DiTCheckpoints.load(net, DIR.resolve("weights.pth"));
      try (DiTGenerator gen = new DiTGenerator(net, null, Device.CPU)) {
        Latents fine =
            gen.sample(
                new long[] {1},
                3,
                GenerateOptions.builder()
                    .gridPoints(4)
                    .guidance(GenerateOptions.GuidanceKind.CFG, 1e3)
                    .build(),
                Progress.NONE);
        for (float v : fine.values()) {
          assertThat(v).isFinite();
        }
        GenerateOptions extreme =
            GenerateOptions.builder()
                .gridPoints(4)
                .guidance(GenerateOptions.GuidanceKind.CFG, 1e300)
                .build();
        assertThatThrownBy(() -> gen.sample(new long[] {1}, 3, extreme, Progress.NONE))
            .isInstanceOf(ArithmeticException.class)
            .hasMessageContaining("non-finite latent")
            .hasMessageContaining("scale 1.0E300")
            .hasMessageContaining("lower the guidance scale");
      }
    }
  }

  @Test
  void anAbsurdGridIsRefusedBeforeAnythingIsAllocated() {
    assertThatThrownBy(() -> GenerateOptions.builder().gridPoints(Integer.MAX_VALUE).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("need at most 1000000 grid points");
  }

  @Test
  void anInfiniteGuidanceScaleIsRefusedUpFront() {
    assertThatThrownBy(
            () ->
                GenerateOptions.builder()
                    .guidance(GenerateOptions.GuidanceKind.CFG, Double.POSITIVE_INFINITY)
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Infinity");
  }
}
