package dev.rectok.models.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.models.golden.GoldenCase;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.LoadReport;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Golden case 2, module level only: the stage-1 model's masked encoder, posterior, pixel decoder
 * with mask tokens and semantic decoder, fed the injected draws and the reference's noisy latents.
 * (The latent noise schedule and the losses belong to training and are not checked here.)
 */
class Case2ModulesParityTest {

  @Test
  void stage1ModulesUnderMaskingMatchTheReference() throws IOException {
    Path dir =
        Path.of(System.getProperty("rectok.golden.dir")).resolve("case2_tokenizer_train_forward");
    List<GoldenCase.Comparison> cmp = new ArrayList<>();
    List<Tensor> probed = new ArrayList<>();
    try (GoldenCase golden = GoldenCase.open(dir);
        Scope s = Scope.open();
        GradMode g = GradMode.noGrad();
        RecTok tok = new RecTok(RecTokConfig.fromGoldenConfig(golden.config()))) {
      LoadReport r = TokenizerCheckpoints.load(tok, golden.file("weights.pth"));
      assertThat(r.entry()).isEqualTo("model_ema");
      assertThat(r.ignored()).isEmpty();
      Tensor x = golden.tensor("input.image");
      int lenKeep = (int) golden.tensor("derived.len_keep").itemLong();
      try (Encoder.MaskedOutput m =
              tok.encoder().forwardMasked(x, golden.tensor("input.rng0_rand_mask_noise"), lenKeep);
          Posterior p = Posterior.of(m.z())) {
        assertThat(m.idsRestore().equal(golden.tensor("derived.ids_restore"))).isTrue();
        assertThat(m.idsKeep().equal(golden.tensor("derived.ids_keep"))).isTrue();
        assertThat(m.mask().equal(golden.tensor("derived.mask"))).isTrue();
        cmp.add(golden.compare("output.z_full_visible", m.z()));
        cmp.add(golden.compare("output.posterior_mean", p.mean()));
        cmp.add(golden.compare("output.posterior_logvar", p.logvar()));
        cmp.add(golden.compare("output.posterior_std", p.std()));
        cmp.add(golden.compare("output.loss.kl", p.kl().sum().div(x.size(0))));
        Tensor zSampled =
            p.mean().add(p.std().mul(golden.tensor("input.rng1_randn_posterior_eps")));
        cmp.add(golden.compare("derived.z_sampled", zSampled));

        Tensor zNoisy = golden.tensor("output.z_noisy");
        Tensor decoded =
            tok.decoderModule()
                .forward(
                    zNoisy,
                    m.idsRestore(),
                    (n, t) -> {
                      if (golden.has("debug.decoder." + n)) {
                        Tensor c = t.clone().escape();
                        probed.add(c);
                        cmp.add(golden.compare("debug.decoder." + n, c));
                      }
                    });
        cmp.add(golden.compare("output.decoded", decoded));
        Tensor sem =
            tok.semanticDecoder()
                .forward(
                    zNoisy,
                    m.idsRestore(),
                    (n, t) -> {
                      if (golden.has("debug.sem_decoder." + n)) {
                        Tensor c = t.clone().escape();
                        probed.add(c);
                        cmp.add(golden.compare("debug.sem_decoder." + n, c));
                      }
                    });
        cmp.add(golden.compare("output.sem_pred", sem));
      }
    } finally {
      probed.forEach(Tensor::close);
    }
    double worst = 0;
    for (GoldenCase.Comparison c : cmp) {
      System.out.println("case2 " + c);
      assertThat(c.passes(1e-4)).as(c.toString()).isTrue();
      worst = Math.max(worst, c.relError());
    }
    System.out.printf("case2 (modules) max rel error %.3e over %d tensors%n", worst, cmp.size());
    assertThat(cmp).hasSize(15);
  }
}
