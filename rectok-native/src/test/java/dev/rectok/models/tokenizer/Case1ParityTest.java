package dev.rectok.models.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.models.golden.GoldenCase;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.LoadReport;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Golden case 1: the generator-side tokenizer in eval mode, replayed call by call as {@code
 * parity_lib/cases.py run_case1} does, every {@code output.*} and {@code debug.*} tensor compared
 * (relative error ≤ 1e-4, uint8 within ±1).
 */
class Case1ParityTest {
  static final double TOL = 1e-4;
  static GoldenCase golden;

  @BeforeAll
  static void open() throws IOException {
    golden =
        GoldenCase.open(
            Path.of(System.getProperty("rectok.golden.dir")).resolve("case1_tokenizer_inference"));
  }

  @AfterAll
  static void close() {
    golden.close();
  }

  static RecTok build() {
    return new RecTok(RecTokConfig.fromGoldenConfig(golden.config()));
  }

  /**
   * Probed activations are created inside the modules' scopes: take a copy out of them. The copies
   * are owned by the test ({@link #closeAll}).
   */
  static Tensor keep(Tensor t) {
    return t.clone().escape();
  }

  static void closeAll(Map<String, Tensor> tensors) {
    tensors.values().forEach(Tensor::close);
  }

  /**
   * Runs the reference's call sequence and returns every produced output and debug tensor by golden
   * name.
   */
  static Map<String, Tensor> run(RecTok tok) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    Tensor x = golden.tensor("input.image");
    tok.resetStats(golden.tensor("input.latent_mean"), golden.tensor("input.latent_std"));
    out.put(
        "output.z_full",
        tok.encoder().forward(x, (n, t) -> out.put("debug.encoder." + n, keep(t))));
    try (RecTok.Encoding enc = tok.encode(x, false, null)) {
      out.put("output.posterior_mean", enc.zLatents().clone());
      out.put("output.posterior_logvar", enc.posterior().logvar().clone());
      out.put("output.posterior_std", enc.posterior().std().clone());
      out.put(
          "output.decoder_out",
          tok.decoderModule()
              .forward(enc.zLatents(), null, (n, t) -> out.put("debug.decoder." + n, keep(t))));
    }
    Tensor tokens = tok.tokenize(x);
    out.put("output.tokens", tokens);
    out.put("output.detokenized", tok.detokenize(tokens));
    Tensor rec = tok.reconstruct(x);
    out.put("output.reconstruction", rec);
    out.put("output.reconstruction_uint8", RecTok.toUint8(rec));
    return out;
  }

  /** Compares everything; returns the worst float relative error. */
  static double compareAll(Map<String, Tensor> got, boolean print) {
    List<String> expected = new ArrayList<>();
    for (String n : golden.names()) {
      if (n.startsWith("output.") || n.startsWith("debug.")) {
        expected.add(n);
      }
    }
    assertThat(got.keySet()).containsExactlyInAnyOrderElementsOf(expected);
    double worst = 0;
    for (String n : expected) {
      GoldenCase.Comparison c = golden.compare(n, got.get(n));
      if (print) {
        System.out.println("case1 " + c);
      }
      assertThat(c.shapeMatches()).as(n + " shape").isTrue();
      if (n.equals("output.reconstruction_uint8")) {
        assertThat(c.maxAbsError()).as(n).isLessThanOrEqualTo(1.0);
      } else {
        worst = Math.max(worst, c.relError());
      }
    }
    return worst;
  }

  @Test
  void emaWeightsFromPthReproduceEveryTensor() throws IOException {
    try (Scope s = Scope.open();
        GradMode g = GradMode.noGrad();
        RecTok tok = build()) {
      LoadReport r = TokenizerCheckpoints.load(tok, golden.file("weights.pth"));
      assertThat(r.entry()).isEqualTo("model_ema");
      assertThat(r.ignored()).isEmpty();
      assertThat(r.loaded()).hasSize(tok.stateDict().size());
      Map<String, Tensor> got = run(tok);
      double worst = compareAll(got, true);
      closeAll(got);
      System.out.printf("case1 (weights.pth model_ema) max rel error %.3e%n", worst);
      assertThat(worst).isLessThanOrEqualTo(TOL);
    }
  }

  @Test
  void safetensorsWeightsReproduceEveryTensor() throws IOException {
    try (Scope s = Scope.open();
        GradMode g = GradMode.noGrad();
        RecTok tok = build()) {
      LoadReport r = TokenizerCheckpoints.load(tok, golden.file("weights.safetensors"));
      assertThat(r.entry()).isEqualTo("<safetensors>");
      Map<String, Tensor> got = run(tok);
      double worst = compareAll(got, false);
      closeAll(got);
      System.out.printf("case1 (weights.safetensors) max rel error %.3e%n", worst);
      assertThat(worst).isLessThanOrEqualTo(TOL);
    }
  }

  @Test
  void loadingModelInsteadOfModelEmaFailsParity() throws IOException {
    try (Scope s = Scope.open();
        GradMode g = GradMode.noGrad();
        RecTok tok = build()) {
      TokenizerCheckpoints.loadPth(
          tok, golden.file("weights.pth"), TokenizerCheckpoints.Source.MODEL);
      Map<String, Tensor> got = run(tok);
      GoldenCase.Comparison c = golden.compare("output.decoder_out", got.get("output.decoder_out"));
      GoldenCase.Comparison z = golden.compare("output.z_full", got.get("output.z_full"));
      System.out.println("case1 with 'model': " + z + " / " + c);
      closeAll(got);
      assertThat(z.relError()).isGreaterThan(1e-3);
      assertThat(c.relError()).isGreaterThan(1e-3);
    }
  }

  @Test
  void aMissingOrMisShapedKeyIsAnErrorNamingIt() throws IOException {
    RecTokConfig cfg = RecTokConfig.fromGoldenConfig(golden.config());
    // one more channel: every latent-sized tensor is mis-shaped
    try (RecTok wide = new RecTok(cfg.toBuilder().tokenChannels(cfg.tokenChannels() + 1).build())) {
      assertThatThrownBy(() -> TokenizerCheckpoints.load(wide, golden.file("weights.safetensors")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("encoder.latent_head.weight")
          .hasMessageContaining("decoder.decoder_embed.weight");
    }
    // a stage-1 model needs a semantic decoder the file does not have
    try (RecTok stage1 = new RecTok(cfg.toBuilder().foundationModelType("dinov3").build())) {
      assertThatThrownBy(() -> TokenizerCheckpoints.load(stage1, golden.file("weights.pth")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("sem_decoders.dinov3.out.weight");
    }
  }

  @Test
  void dictChoiceFollowsTheGeneratorPipeline() {
    var auto = TokenizerCheckpoints.Source.AUTO;
    assertThat(TokenizerCheckpoints.dictKey(auto, java.util.Set.of("model", "model_ema")::contains))
        .isEqualTo("model_ema");
    assertThat(TokenizerCheckpoints.dictKey(auto, java.util.Set.of("model", "optimizer")::contains))
        .isEqualTo("model");
    assertThat(TokenizerCheckpoints.dictKey(auto, java.util.Set.<String>of()::contains)).isNull();
    assertThat(TokenizerCheckpoints.dictKey(TokenizerCheckpoints.Source.MODEL, k -> true))
        .isEqualTo("model");
  }

  @Test
  void auxKeysAreRenamedToSem() {
    assertThat(TokenizerCheckpoints.rename("aux_decoders.dinov3.out.weight"))
        .isEqualTo("sem_decoders.dinov3.out.weight");
    assertThat(TokenizerCheckpoints.rename("encoder.ln_pre.weight"))
        .isEqualTo("encoder.ln_pre.weight");
  }

  @Test
  void configFromGoldenFolderMatchesItsArchitecture() {
    RecTokConfig cfg = RecTokConfig.fromGoldenConfig(golden.config());
    var arch = golden.config().path("architecture");
    assertThat(cfg.gridSize()).isEqualTo(arch.path("grid").get(0).asInt());
    assertThat(cfg.seqLen()).isEqualTo(arch.path("seq_len").asInt());
    assertThat(cfg.encoderOutChannels()).isEqualTo(arch.path("encoder_out_channels").asInt());
    assertThat(cfg.encoderSize().headDim())
        .isEqualTo(arch.path("encoder").path("head_dim").asInt());
    assertThat(Block.swigluHidden(cfg.encoderSize().width()))
        .isEqualTo(arch.path("encoder").path("mlp_hidden").asLong());
    assertThat(cfg.hasSemanticDecoder()).isFalse();
  }
}
