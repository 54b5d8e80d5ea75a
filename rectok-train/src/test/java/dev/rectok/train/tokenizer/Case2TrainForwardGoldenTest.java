package dev.rectok.train.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.models.golden.GoldenCase;
import dev.rectok.models.tokenizer.RecTok;
import dev.rectok.models.tokenizer.RecTokConfig;
import dev.rectok.models.tokenizer.TokenizerCheckpoints;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.train.loss.FeatureTeacher;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Golden case 2 through the trainer's own forward ({@link DistillationForward}) with the recorded
 * draws injected by {@link TrainingNoise#replay}: every {@code output.*}, {@code derived.*} and
 * {@code debug.*} tensor, with GoldenReplay's tolerances (indices exact, τ and the teacher slice
 * 1e-6, forward outputs 1e-4, losses 1e-5).
 */
class Case2TrainForwardGoldenTest {

  @Test
  void trainingForwardReproducesEveryCase2Tensor() throws IOException {
    Path dir = Path.of(System.getProperty("rectok.golden.dir")).resolve("case2_tokenizer_train_forward");
    List<String> failures = new ArrayList<>();
    TreeSet<String> checked = new TreeSet<>();
    List<Tensor> probed = new ArrayList<>();
    try (GoldenCase g = GoldenCase.open(dir); RecTok tok = new RecTok(RecTokConfig.fromGoldenConfig(g.config()));
        Scope s = Scope.open(); GradMode m = GradMode.noGrad()) {
      TokenizerCheckpoints.load(tok, g.file("weights.pth"));
      tok.train(true);
      var loss = g.config().get("loss");
      double ratio = g.config().get("masking").get("forced_mask_ratio").asDouble();
      TokenizerTrainingConfig cfg = TokenizerTrainingConfig.builder().maskRatioMin(ratio).maskRatio(ratio)
          .klLossWeight(loss.get("kl_weight").asDouble()).semLossWeight(loss.get("sem_weight").asDouble())
          .discriminatorWeight(loss.get("discriminator_weight").asDouble())
          .discriminatorStartEpoch(loss.get("discriminator_start_epoch").asInt()).build();
      int registers = g.config().get("teacher_stand_in").get("num_register_tokens").asInt();
      Tensor hidden = g.tensor("input.teacher_last_hidden_state");
      FeatureTeacher standIn = new FeatureTeacher() {
        @Override
        public Tensor features(Tensor images, long[] idx) {
          return hidden.slice(1, 1 + registers, hidden.size(1), 1); // drop cls + registers, as the reference
        }

        @Override
        public void close() {}
      };
      TrainingNoise noise = TrainingNoise.replay(ratio, g.tensor("input.rng0_rand_mask_noise"),
          g.tensor("input.rng1_randn_posterior_eps"), g.tensor("input.rng2_rand_tau_uniform"),
          g.tensor("input.rng3_randn_latent_noise"));
      DistillationForward fwd = new DistillationForward(cfg, tok, standIn, null, null);
      boolean ganActive = loss.get("epoch").asInt() >= cfg.discriminatorStartEpoch();
      try (LossTerms t = fwd.forward(g.tensor("input.image"), null, noise, ganActive, (name, a) -> {
        if (g.has("debug." + name)) {
          Tensor c = a.clone().escape();
          probed.add(c);
          check(g, "debug." + name, c, 1e-4, failures, checked);
        }
      })) {
        int seqLen = tok.config().seqLen();
        Map<String, Tensor> exact = new LinkedHashMap<>();
        exact.put("derived.len_keep", Tensor.of(new long[] {t.lenKeep()}).reshape());
        exact.put("derived.ids_shuffle", t.idsShuffle());
        exact.put("derived.ids_keep", t.idsKeep());
        exact.put("derived.ids_masked", t.idsShuffle().narrow(1, t.lenKeep(), seqLen - t.lenKeep()));
        exact.put("derived.ids_restore", t.idsRestore());
        exact.put("derived.mask", t.mask());
        exact.forEach((name, a) -> check(g, name, a, 0.0, failures, checked));
        check(g, "derived.tau", t.tau(), 1e-6, failures, checked);
        check(g, "output.sem_target", t.semTarget(), 1e-6, failures, checked);
        Map<String, Tensor> forward = new LinkedHashMap<>();
        forward.put("derived.z_sampled", t.zSampled());
        forward.put("output.z_full_visible", t.zFull());
        forward.put("output.posterior_mean", t.posterior().mean());
        forward.put("output.posterior_logvar", t.posterior().logvar());
        forward.put("output.posterior_std", t.posterior().std());
        forward.put("output.z_noisy", t.zNoisy());
        forward.put("output.decoded", t.decoded());
        forward.put("output.sem_pred", t.semPred());
        forward.forEach((name, a) -> check(g, name, a, 1e-4, failures, checked));
        Map<String, Tensor> losses = new LinkedHashMap<>();
        losses.put("output.loss.kl", t.kl());
        losses.put("output.loss.kl_weighted", t.klWeighted());
        losses.put("output.loss.pixel_mse", t.pixelMse());
        losses.put("output.loss.sem_cosine", t.semCosine());
        losses.put("output.loss.sem_weighted", t.semWeighted());
        // perceptual off (no weights given) and GAN inactive at epoch 0: exactly the golden's total
        losses.put("output.loss.total_without_perceptual_and_gan", t.total());
        losses.forEach((name, a) -> check(g, name, a, 1e-5, failures, checked));
        assertThat(t.perceptual()).isNull();
        assertThat(t.ganGenerator()).isNull();
      } finally {
        probed.forEach(Tensor::close);
      }
      TreeSet<String> expected = new TreeSet<>();
      g.names().stream().filter(n -> n.startsWith("output.") || n.startsWith("derived.") || n.startsWith("debug."))
          .forEach(expected::add);
      assertThat(checked).as("every output/derived/debug tensor is compared").containsAll(expected);
    }
    assertThat(failures).isEmpty();
  }

  private static void check(GoldenCase g, String name, Tensor actual, double tol, List<String> failures,
      TreeSet<String> checked) {
    GoldenCase.Comparison c = g.compare(name, actual);
    checked.add(name);
    boolean ok = c.shapeMatches() && (tol == 0 ? c.maxAbsError() == 0 : c.passes(tol));
    if (!ok) {
      failures.add(c + " (tol " + tol + ")");
    }
  }
}
