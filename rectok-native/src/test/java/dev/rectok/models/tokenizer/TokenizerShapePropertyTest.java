package dev.rectok.models.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Shape laws of the tokenizer over small random architectures: widths and head counts with head
 * dims that are multiples of 4 but not powers of two, patch sizes, odd grids, batch sizes.
 */
class TokenizerShapePropertyTest {

  record Arch(
      int encHeads,
      int encHeadDim,
      int encLayers,
      int decHeads,
      int decHeadDim,
      int decLayers,
      int patch,
      int grid,
      int channels,
      int batch) {
    RecTokConfig config() {
      return RecTokConfig.builder()
          .encoderDecoder(
              new RecTokConfig.ModelSize(encHeads * encHeadDim, encLayers, encHeads),
              new RecTokConfig.ModelSize(decHeads * decHeadDim, decLayers, decHeads))
          .patchSize(patch)
          .imgSize(patch * grid)
          .tokenChannels(channels)
          .build();
    }
  }

  @Provide
  Arbitrary<Arch> archs() {
    Arbitrary<Integer> heads = Arbitraries.integers().between(1, 3);
    Arbitrary<Integer> headDim = Arbitraries.of(4, 8, 12, 20);
    Arbitrary<Integer> layers = Arbitraries.integers().between(0, 2);
    return Combinators.combine(
            heads,
            headDim,
            layers,
            heads,
            headDim,
            layers,
            Arbitraries.integers().between(1, 5),
            Arbitraries.integers().between(1, 5))
        .as((eh, ed, el, dh, dd, dl, p, g) -> new int[] {eh, ed, el, dh, dd, dl, p, g})
        .flatMap(
            a ->
                Combinators.combine(
                        Arbitraries.integers().between(1, 9), Arbitraries.integers().between(1, 3))
                    .as((c, b) -> new Arch(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], c, b)));
  }

  @Property(tries = 40)
  void encodeDecodeShapes(@ForAll("archs") Arch a, @ForAll long seed) {
    RecTokConfig cfg = a.config();
    int g = cfg.gridSize();
    int c = cfg.tokenChannels();
    try (Scope s = Scope.open();
        GradMode gm = GradMode.noGrad();
        RecTok tok = new RecTok(cfg);
        TorchGenerator gen = TorchGenerator.cpu(seed)) {
      Tensor x = Tensor.rand(gen, a.batch(), 3, cfg.imgSize(), cfg.imgSize()).mul(2).sub(1);
      Tensor z = tok.encoderZ(x);
      assertThat(z.shape()).containsExactly(a.batch(), (long) g * g, 2L * c);
      try (RecTok.Encoding e = tok.encode(x, true, gen)) {
        assertThat(e.zLatents().shape()).containsExactly(a.batch(), (long) g * g, c);
        assertThat(e.posterior().std().shape()).containsExactly(a.batch(), (long) g * g, c);
      }
      Tensor tokens = tok.tokenize(x);
      assertThat(tokens.shape()).containsExactly(a.batch(), c, g, g);
      Tensor rec = tok.reconstruct(x);
      assertThat(rec.shape()).containsExactly(x.shape());
      assertThat(rec.min().item()).isGreaterThanOrEqualTo(0.0);
      assertThat(rec.max().item()).isLessThanOrEqualTo(1.0);
      assertThat(RecTok.toUint8(rec).shape())
          .containsExactly(a.batch(), cfg.imgSize(), cfg.imgSize(), 3);
      assertThat(tok.decoder(Tensor.zeros(a.batch(), (long) g * g, c)).shape())
          .containsExactly(x.shape());
    }
  }

  @Property(tries = 25)
  void maskedEncodingAndMaskTokenFillKeepShapes(@ForAll("archs") Arch a, @ForAll long seed) {
    RecTokConfig cfg =
        a.config().toBuilder()
            .foundationModelType("dinov3")
            .vitSemModelSize("mini")
            .addSize("mini", new RecTokConfig.ModelSize(24, 1, 2))
            .build();
    int l = cfg.seqLen();
    try (Scope s = Scope.open();
        GradMode gm = GradMode.noGrad();
        RecTok tok = new RecTok(cfg);
        TorchGenerator gen = TorchGenerator.cpu(seed)) {
      int keep = 1 + (int) Math.floorMod(seed, (long) l);
      Tensor x = Tensor.rand(gen, a.batch(), 3, cfg.imgSize(), cfg.imgSize());
      Tensor noise = Tensor.rand(gen, a.batch(), l);
      try (Encoder.MaskedOutput m = tok.encoder().forwardMasked(x, noise, keep)) {
        assertThat(m.z().shape()).containsExactly(a.batch(), keep, 2L * cfg.tokenChannels());
        assertThat(m.mask().sum().item()).isEqualTo((double) a.batch() * (l - keep));
        Tensor visible = m.z().narrow(2, 0, cfg.tokenChannels());
        assertThat(
                tok.decoderModule().forward(visible, m.idsRestore(), ActivationProbe.NONE).shape())
            .containsExactly(x.shape());
        assertThat(tok.semanticDecoder().forward(visible, m.idsRestore()).shape())
            .containsExactly(a.batch(), l, cfg.foundationHiddenSize());
      }
    }
  }
}
