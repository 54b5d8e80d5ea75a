package dev.rectok.models.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.io.HostTensor;
import dev.rectok.torch.io.SafeTensors;
import dev.rectok.torch.nn.LoadReport;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerBehaviourTest {
  static RecTokConfig small(boolean stage1) {
    RecTokConfig.Builder b =
        RecTokConfig.builder()
            .encoderDecoder(
                new RecTokConfig.ModelSize(24, 1, 2), new RecTokConfig.ModelSize(16, 1, 1))
            .imgSize(12)
            .patchSize(4)
            .tokenChannels(5);
    if (stage1) {
      b.foundationModelType("dinov3")
          .vitSemModelSize("mini")
          .addSize("mini", new RecTokConfig.ModelSize(12, 1, 3));
    }
    return b.build();
  }

  @Test
  void usedOutsideAnyScopeItLeavesNoLiveTensorBehind() {
    long before = Tensor.liveHandles();
    try (RecTok tok = new RecTok(small(true));
        TorchGenerator gen = TorchGenerator.cpu(5)) {
      tok.resetStats(1.0, 2.0);
      try (Tensor m = Tensor.zeros(5);
          Tensor sd = Tensor.ones(5)) {
        tok.resetStats(m, sd);
      }
      try (Tensor x = Tensor.rand(gen, 1, 3, 12, 12);
          Tensor r = tok.reconstruct(x);
          RecTok.Encoding e = tok.encode(x, true, gen);
          Tensor noise = Tensor.rand(gen, 1, 9);
          Encoder.MaskedOutput m = tok.encoder().forwardMasked(x, noise, 4);
          Tensor sem = tok.semanticDecoder().forward(e.zLatents(), null)) {
        assertThat(r.shape()).containsExactly(1, 3, 12, 12);
        assertThat(sem.shape()).containsExactly(1, 9, 1024);
      }
    }
    assertThat(Tensor.liveHandles()).isEqualTo(before);
  }

  @Test
  void seededSamplingIsReproducibleAndCentredOnTheMean() {
    try (Scope s = Scope.open();
        GradMode g = GradMode.noGrad();
        RecTok tok = new RecTok(small(false))) {
      Tensor x = Tensor.rand(TorchGenerator.cpu(1), 2, 3, 12, 12);
      Tensor a;
      Tensor b;
      Tensor mean;
      try (TorchGenerator g1 = TorchGenerator.cpu(7);
          RecTok.Encoding e = tok.encode(x, true, g1)) {
        a = e.zLatents().clone();
        mean = e.posterior().mean().clone();
      }
      try (TorchGenerator g2 = TorchGenerator.cpu(7);
          RecTok.Encoding e = tok.encode(x, true, g2)) {
        b = e.zLatents().clone();
      }
      assertThat(a.equal(b)).isTrue();
      assertThat(a.equal(mean)).isFalse();
      try (RecTok.Encoding e = tok.encode(x, false, null)) {
        assertThat(e.zLatents().equal(mean)).isTrue();
      }
    }
  }

  @Test
  void posteriorClampsLogvarAndDerivesStd() {
    try (Scope s = Scope.open();
        Posterior p = Posterior.of(Tensor.of(new float[] {1, 2, 45, -60}, 1, 1, 4))) {
      assertThat(p.mean().toFloatArray()).containsExactly(1, 2);
      assertThat(p.logvar().toFloatArray()).containsExactly(20, -30);
      assertThat(p.std().toFloatArray()[0])
          .isEqualTo((float) Math.exp(10), org.assertj.core.api.Assertions.within(1f));
      assertThat(p.kl().shape()).containsExactly(1);
    }
  }

  @Test
  void latentStatisticsNormalizeAndDenormalize() {
    try (Scope s = Scope.open();
        GradMode g = GradMode.noGrad();
        RecTok tok = new RecTok(small(false))) {
      Tensor z = Tensor.rand(TorchGenerator.cpu(3), 2, 9, 5);
      tok.resetStats(
          Tensor.of(new float[] {1, 2, 3, 4, 5}, 5), Tensor.of(new float[] {2, 2, 2, 2, 4}, 5));
      assertThat(tok.latentMean().shape()).containsExactly(1, 1, 5);
      Tensor n = tok.normalizeZ(z);
      assertThat(n.narrow(2, 4, 1).mul(4).add(5).sub(z.narrow(2, 4, 1)).abs().max().item())
          .isLessThan(1e-6);
      assertThat(tok.denormalizeZ(n).sub(z).abs().max().item()).isLessThan(1e-6);
      tok.resetStats(0.5, 3.0);
      assertThat(tok.latentMean().dim()).isZero();
      assertThat(tok.normalizeZ(z).sub(z.sub(0.5).div(3.0)).abs().max().item()).isLessThan(1e-6);
      assertThat(tok.namedBuffers())
          .containsKeys("mean", "std", "encoder.rope_tensor", "decoder.rope_tensor");
      assertThat(tok.stateDict()).doesNotContainKeys("mean", "std", "encoder.rope_tensor");
    }
  }

  @Test
  void preReleaseAuxKeysAreRenamedAndUnknownKeysIgnoredButReported(@TempDir Path dir)
      throws IOException {
    Path file = dir.resolve("stage1.safetensors");
    try (Scope s = Scope.open();
        GradMode g = GradMode.noGrad();
        RecTok src = new RecTok(small(true));
        RecTok dst = new RecTok(small(true));
        Arena arena = Arena.ofConfined()) {
      Map<String, HostTensor> out = new LinkedHashMap<>();
      src.stateDict().forEach((k, v) -> out.put(k.replace("sem_", "aux_"), v.toHost(arena)));
      out.put(
          "aux_foundation_models.dinov3.embeddings.cls_token", Tensor.zeros(1, 1, 4).toHost(arena));
      SafeTensors.write(file, out, Map.of());
      LoadReport r = TokenizerCheckpoints.load(dst, file);
      assertThat(r.renamed()).isEqualTo(src.semanticDecoder().stateDict().size() + 1);
      assertThat(r.ignored()).containsExactly("sem_foundation_models.dinov3.embeddings.cls_token");
      src.stateDict().forEach((k, v) -> assertThat(dst.stateDict().get(k).equal(v)).as(k).isTrue());
    }
    assertThat(Files.size(file)).isPositive();
  }

  @Test
  void invalidArchitecturesAreRejectedWithTheReason() {
    assertThatThrownBy(
            () ->
                RecTokConfig.builder()
                    .encoderDecoder(
                        new RecTokConfig.ModelSize(18, 1, 3), new RecTokConfig.ModelSize(16, 1, 1))
                    .build())
        .hasMessageContaining("multiple of 4");
    assertThatThrownBy(() -> RecTokConfig.builder().imgSize(30).patchSize(4).build())
        .hasMessageContaining("patchSize");
    assertThatThrownBy(() -> RecTokConfig.builder().vitEncModelSize("giant").build())
        .hasMessageContaining("giant");
    assertThatThrownBy(() -> RecTokConfig.preset("rectok_XL")).hasMessageContaining("rectok_XL");
  }

  @Test
  void disableKlEmitsTheLatentDirectly() {
    RecTokConfig cfg = small(false).toBuilder().disableKl(true).build();
    try (Scope s = Scope.open();
        GradMode g = GradMode.noGrad();
        RecTok tok = new RecTok(cfg)) {
      Tensor x = Tensor.rand(TorchGenerator.cpu(2), 1, 3, 12, 12);
      assertThat(tok.encoderZ(x).shape()).containsExactly(1, 9, 5);
      try (RecTok.Encoding e = tok.encode(x, false, null)) {
        assertThat(e.posterior()).isNull();
      }
      assertThat(tok.reconstruct(x).shape()).containsExactly(1, 3, 12, 12);
    }
  }
}
