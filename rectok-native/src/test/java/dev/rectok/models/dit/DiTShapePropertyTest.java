package dev.rectok.models.dit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.models.golden.GoldenCase;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.nn.Init;
import dev.rectok.torch.nn.Parameter;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** Laws over small random configurations: odd grids, non-power-of-two head dims, any batch. */
class DiTShapePropertyTest {

  @Provide
  Arbitrary<Integer> headDims() {
    return Arbitraries.of(4, 8, 12, 20, 24);
  }

  private static DiTConfig config(
      int encHeads,
      int encHeadDim,
      int decHeads,
      int decHeadDim,
      int encDepth,
      int decDepth,
      int grid,
      int tokenizerPatch,
      int channels,
      int classes,
      boolean dropout,
      boolean posEmbed,
      boolean qkNorm,
      boolean swiglu,
      boolean rms) {
    return DiTConfig.builder()
        // img_size // tokenizer_patch_size == grid, with a remainder to exercise the floor division
        .imgSize(grid * tokenizerPatch + tokenizerPatch - 1)
        .tokenizerPatchSize(tokenizerPatch)
        .tokenChannels(channels)
        .hiddenSize(encHeads * encHeadDim, decHeads * decHeadDim)
        .depth(encDepth, decDepth)
        .numHeads(encHeads, decHeads)
        .numClasses(classes)
        .labelDropoutProb(dropout ? 0.1 : 0.0)
        .usePosEmbed(posEmbed)
        .useQknorm(qkNorm)
        .useSwiglu(swiglu)
        .useRmsnorm(rms)
        .mlpRatio(qkNorm ? 2.5 : 4.0)
        .build();
  }

  /**
   * Random weights everywhere (the reference's init zeroes the output layers, which would hide
   * mistakes).
   */
  private static void randomize(DiTwDDTHead net, TorchGenerator gen) {
    for (Parameter p : net.parameters()) {
      if (p.requiresGrad()) {
        Init.normal_(p.data(), 0, 0.2, gen);
      }
    }
  }

  @Property(tries = 30)
  void forwardHasTheShapeOfXAndSamplesDoNotInteract(
      @ForAll @IntRange(min = 1, max = 3) int encHeads,
      @ForAll("headDims") int encHeadDim,
      @ForAll @IntRange(min = 1, max = 3) int decHeads,
      @ForAll("headDims") int decHeadDim,
      @ForAll @IntRange(min = 0, max = 2) int encDepth,
      @ForAll @IntRange(min = 0, max = 2) int decDepth,
      @ForAll @IntRange(min = 1, max = 5) int grid,
      @ForAll @IntRange(min = 1, max = 3) int tokenizerPatch,
      @ForAll @IntRange(min = 1, max = 6) int channels,
      @ForAll @IntRange(min = 1, max = 3) int batch,
      @ForAll @IntRange(min = 1, max = 5) int classes,
      @ForAll boolean dropout,
      @ForAll boolean posEmbed,
      @ForAll boolean qkNorm,
      @ForAll boolean swiglu,
      @ForAll boolean rms,
      @ForAll @IntRange(min = 0, max = 1000) int seed) {
    DiTConfig cfg =
        config(
            encHeads,
            encHeadDim,
            decHeads,
            decHeadDim,
            encDepth,
            decDepth,
            grid,
            tokenizerPatch,
            channels,
            classes,
            dropout,
            posEmbed,
            qkNorm,
            swiglu,
            rms);
    try (TorchGenerator gen = TorchGenerator.cpu(seed);
        DiTwDDTHead net = new DiTwDDTHead(cfg, gen);
        Scope s = Scope.open();
        GradMode g = GradMode.noGrad()) {
      DiTManifestTest.assertModuleMatchesLayout(net);
      randomize(net, gen);
      net.eval();
      Tensor x = Tensor.randn(gen, batch, channels, grid, grid);
      Tensor t = Tensor.rand(gen, batch);
      Tensor y =
          Tensor.randint(0, cfg.labelTableRows(), new long[] {batch}, gen, DType.INT64, Device.CPU);
      Tensor v = net.forward(x, t, y);
      assertThat(v.shape()).isEqualTo(x.shape());
      assertThat(v.isfinite().logicalNot().sum().item()).isZero();
      // Eval-mode law: each sample's velocity depends on that sample alone.
      Tensor last =
          net.forward(
              x.narrow(0, batch - 1, 1), t.narrow(0, batch - 1, 1), y.narrow(0, batch - 1, 1));
      GoldenCase.Comparison c = GoldenCase.compare("last sample", last, v.narrow(0, batch - 1, 1));
      // A batch of one takes other GEMM blockings than a batch of several: float32 rounding differs
      // at ~1e-5 relative on small outputs; an interaction between samples would be O(1).
      assertThat(c.relError()).as(c.toString()).isLessThan(1e-4);
    }
  }

  @Test
  void trainingModeDropsLabelsToTheNullClassOnly() {
    DiTConfig cfg =
        config(1, 8, 1, 8, 1, 1, 3, 1, 2, 4, true, true, false, true, true).toBuilder()
            .labelDropoutProb(1.0)
            .build();
    try (TorchGenerator gen = TorchGenerator.cpu(7);
        DiTwDDTHead net = new DiTwDDTHead(cfg, gen);
        Scope s = Scope.open();
        GradMode g = GradMode.noGrad()) {
      randomize(net, gen);
      Tensor x = Tensor.randn(gen, 2, 2, 3, 3);
      Tensor t = Tensor.rand(gen, 2);
      Tensor yNull = Tensor.of(new long[] {4, 4}, 2);
      net.eval();
      Tensor expected = net.forward(x, t, yNull);
      net.train(true);
      // With p = 1 every label is dropped to the null class 4.
      Tensor dropped = net.forward(x, t, Tensor.of(new long[] {0, 3}, 2), gen, (n, val) -> {});
      assertThat(GoldenCase.compare("dropped", dropped, expected).relError()).isLessThan(1e-6);
    }
  }

  @Test
  void theInputMustHaveTheConfiguredGrid() {
    DiTConfig cfg = config(1, 8, 1, 8, 1, 1, 3, 1, 2, 4, true, true, false, true, true);
    try (DiTwDDTHead net = new DiTwDDTHead(cfg);
        Scope s = Scope.open()) {
      Tensor x = Tensor.zeros(1, 2, 4, 4);
      assertThatThrownBy(() -> net.forward(x, Tensor.zeros(1), Tensor.of(new long[] {0}, 1)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("(B, 2, 3, 3)");
    }
  }

  @Test
  void configurationsTheReferenceCannotRunAreRejected() {
    assertThatThrownBy(() -> DiTConfig.builder().numHeads(16, 12).build()) // 2048 / 12 not integral
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () ->
                DiTConfig.builder().hiddenSize(1152, 2016).numHeads(16, 16).build()) // head dim 126
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("divisible by 4");
    assertThatThrownBy(() -> DiTConfig.builder().patchSize(2, 2).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("patch_size");
    assertThatThrownBy(() -> DiTConfig.builder().woShift(true).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("wo_shift");
  }
}
