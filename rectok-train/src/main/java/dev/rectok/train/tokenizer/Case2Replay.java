package dev.rectok.train.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rectok.generate.golden.GoldenReplay;
import dev.rectok.generate.golden.GoldenReplay.Check;
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
import java.util.List;
import java.util.Map;

/**
 * Golden case 2 ({@code case2_tokenizer_train_forward}) through the trainer's own forward, {@link
 * DistillationForward}, with the recorded draws injected by {@link TrainingNoise#replay} and the
 * recorded teacher hidden state: MAE masking, posterior, flow-semantic noise on the shifted time
 * law, both decoders (with their {@code debug.*} activations) and every loss term. Tolerances:
 * indices exact, τ and the teacher slice 1e-6, forward tensors 1e-4, losses 1e-5.
 *
 * <p>Plugs into {@link GoldenReplay#run(Path, Map)} (as {@code rectok check-golden} does).
 * Stateless; thread-safe.
 */
public final class Case2Replay {
  /** The case kind this replays. */
  public static final String KIND = "case2_tokenizer_train_forward";

  /** The training module's replayers, for {@link GoldenReplay#run(Path, Map)}. */
  public static final Map<String, GoldenReplay.Replayer> REPLAYERS =
      Map.of(KIND, Case2Replay::replay);

  private Case2Replay() {}

  /** Replays {@code dir}; see the class comment. */
  public static void replay(Path dir, List<Check> checks, List<String> unsupported)
      throws IOException {
    List<Tensor> probed = new ArrayList<>();
    try (GoldenCase g = GoldenCase.open(dir);
        RecTok tok = new RecTok(RecTokConfig.fromGoldenConfig(g.config()));
        Scope s = Scope.open();
        GradMode m = GradMode.noGrad()) {
      TokenizerCheckpoints.load(tok, g.file("weights.pth"));
      tok.train(true);
      JsonNode loss = g.config().get("loss");
      double ratio = g.config().get("masking").get("forced_mask_ratio").asDouble();
      TokenizerTrainingConfig cfg =
          TokenizerTrainingConfig.builder()
              .maskRatioMin(ratio)
              .maskRatio(ratio)
              .klLossWeight(loss.get("kl_weight").asDouble())
              .semLossWeight(loss.get("sem_weight").asDouble())
              .discriminatorWeight(loss.get("discriminator_weight").asDouble())
              .discriminatorStartEpoch(loss.get("discriminator_start_epoch").asInt())
              .build();
      int registers = g.config().get("teacher_stand_in").get("num_register_tokens").asInt();
      Tensor hidden = g.tensor("input.teacher_last_hidden_state");
      FeatureTeacher recorded =
          new FeatureTeacher() {
            @Override
            public Tensor features(Tensor images, long[] sampleIndices) {
              return hidden.slice(
                  1, 1 + registers, hidden.size(1), 1); // drop cls + registers, as the reference
            }

            @Override
            public void close() {}
          };
      TrainingNoise noise =
          TrainingNoise.replay(
              ratio,
              g.tensor("input.rng0_rand_mask_noise"),
              g.tensor("input.rng1_randn_posterior_eps"),
              g.tensor("input.rng2_rand_tau_uniform"),
              g.tensor("input.rng3_randn_latent_noise"));
      DistillationForward forward = new DistillationForward(cfg, tok, recorded, null, null);
      boolean ganActive = loss.get("epoch").asInt() >= cfg.discriminatorStartEpoch();
      try (LossTerms t =
          forward.forward(
              g.tensor("input.image"),
              null,
              noise,
              ganActive,
              (name, a) -> {
                if (g.has("debug." + name)) {
                  Tensor c = a.clone().escape();
                  probed.add(c);
                  checks.add(Check.of(g.compare("debug." + name, c), 1e-4));
                }
              })) {
        int seqLen = tok.config().seqLen();
        GoldenReplay.exact(
            g, checks, "derived.len_keep", Tensor.of(new long[] {t.lenKeep()}).reshape());
        GoldenReplay.exact(g, checks, "derived.ids_shuffle", t.idsShuffle());
        GoldenReplay.exact(g, checks, "derived.ids_keep", t.idsKeep());
        GoldenReplay.exact(
            g,
            checks,
            "derived.ids_masked",
            t.idsShuffle().narrow(1, t.lenKeep(), seqLen - t.lenKeep()));
        GoldenReplay.exact(g, checks, "derived.ids_restore", t.idsRestore());
        GoldenReplay.exact(g, checks, "derived.mask", t.mask());
        checks.add(Check.of(g.compare("derived.tau", t.tau()), 1e-6));
        checks.add(Check.of(g.compare("output.sem_target", t.semTarget()), 1e-6));
        checks.add(Check.of(g.compare("derived.z_sampled", t.zSampled()), 1e-4));
        checks.add(Check.of(g.compare("output.z_full_visible", t.zFull()), 1e-4));
        checks.add(Check.of(g.compare("output.posterior_mean", t.posterior().mean()), 1e-4));
        checks.add(Check.of(g.compare("output.posterior_logvar", t.posterior().logvar()), 1e-4));
        checks.add(Check.of(g.compare("output.posterior_std", t.posterior().std()), 1e-4));
        checks.add(Check.of(g.compare("output.z_noisy", t.zNoisy()), 1e-4));
        checks.add(Check.of(g.compare("output.decoded", t.decoded()), 1e-4));
        checks.add(Check.of(g.compare("output.sem_pred", t.semPred()), 1e-4));
        checks.add(Check.of(g.compare("output.loss.kl", t.kl()), 1e-5));
        checks.add(Check.of(g.compare("output.loss.kl_weighted", t.klWeighted()), 1e-5));
        checks.add(Check.of(g.compare("output.loss.pixel_mse", t.pixelMse()), 1e-5));
        checks.add(Check.of(g.compare("output.loss.sem_cosine", t.semCosine()), 1e-5));
        checks.add(Check.of(g.compare("output.loss.sem_weighted", t.semWeighted()), 1e-5));
        // perceptual off (no weights given) and GAN inactive at the recorded epoch: the golden's
        // total
        checks.add(
            Check.of(g.compare("output.loss.total_without_perceptual_and_gan", t.total()), 1e-5));
        if (t.perceptual() != null || t.ganGenerator() != null) {
          checks.add(
              new Check(
                  "output.loss.total_without_perceptual_and_gan",
                  "perceptual or GAN term active",
                  false));
        }
      } finally {
        probed.forEach(Tensor::close);
      }
      GoldenReplay.unreplayed(g, checks, unsupported);
    }
  }
}
