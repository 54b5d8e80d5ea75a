package dev.rectok.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.rectok.api.Backends;
import dev.rectok.api.Progress;
import dev.rectok.api.eval.EvaluationMetric;
import dev.rectok.api.eval.EvaluationProtocol;
import dev.rectok.api.eval.EvaluationReport;
import dev.rectok.api.eval.EvaluationRequest;
import dev.rectok.api.spi.EvaluatorProvider;
import dev.rectok.models.inception.InceptionV3;
import dev.rectok.models.inception.InceptionWeights;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FID from Java through the public API alone: {@code rectok-api}'s request/report types and the
 * {@link EvaluatorProvider} service found by {@link Backends} (the JPMS service this module
 * provides). Only the set-up (Inception weights from the golden SplitMix64 recipe, PNG folders)
 * uses anything else; the cross-check compares with {@link Evaluation#run} called directly.
 */
class EvaluatorServiceTest {

  private static Path images(Path dir, int n, int seed, int bias) throws Exception {
    Files.createDirectories(dir);
    Random r = new Random(seed);
    for (int i = 0; i < n; i++) {
      BufferedImage img = new BufferedImage(24, 24, BufferedImage.TYPE_INT_RGB);
      for (int y = 0; y < 24; y++) {
        for (int x = 0; x < 24; x++) {
          int v = Math.min(255, r.nextInt(160) + bias);
          img.setRGB(x, y, (v << 16) | ((v * 7 % 256) << 8) | (255 - v));
        }
      }
      ImageIO.write(img, "png", dir.resolve(String.format("%03d.png", i)).toFile());
    }
    return dir;
  }

  @Test
  void fidBetweenTwoImageSetsThroughTheApi(@TempDir Path tmp) throws Exception {
    Path weights = tmp.resolve("inception.safetensors");
    try (InceptionV3 net = InceptionWeights.fromRecipe(7001)) {
      InceptionWeights.save(net, weights, Map.of());
    }
    Path a = images(tmp.resolve("a"), 6, 1, 0);
    Path b = images(tmp.resolve("b"), 6, 2, 90);

    // --- API only from here ---
    EvaluatorProvider provider = Backends.evaluators(null);
    assertThat(provider.getClass().getModule().getName()).isEqualTo("dev.rectok.torch");
    EvaluationRequest req =
        EvaluationRequest.of(a, b, weights, EnumSet.of(EvaluationMetric.FID))
            .withDevice(dev.rectok.api.Device.CPU, 4);
    EvaluationReport ab = Backends.evaluate(req, Progress.NONE);
    EvaluationReport aa =
        Backends.evaluate(
            EvaluationRequest.of(a, a, weights, Set.of(EvaluationMetric.FID)), Progress.NONE);
    assertThat(ab.protocol()).isEqualTo(EvaluationProtocol.TORCH_FIDELITY);
    assertThat(ab.samples()).isEqualTo(6);
    assertThat(ab.referenceImages()).isEqualTo(6);
    assertThat(ab.referenceStoredStatistics()).isFalse();
    assertThat(ab.referenceSha256()).hasSize(64).isNotEqualTo(aa.referenceSha256());
    assertThat(ab.inceptionSha256()).hasSize(64).isEqualTo(aa.inceptionSha256());
    double fid = ab.metric(EvaluationReport.FID);
    assertThat(fid).isGreaterThan(1e-3);
    assertThat(aa.metric(EvaluationReport.FID)).isCloseTo(0.0, within(1e-3 * fid));
    assertThatThrownBy(() -> ab.metric(EvaluationReport.KID_MEAN))
        .hasMessageContaining("frechet_inception_distance");
    EvaluationReport adm =
        Backends.evaluate(req.withProtocol(EvaluationProtocol.ADM), Progress.NONE);
    assertThat(adm.metric(EvaluationReport.FID)).isCloseTo(fid, within(1e-6 * fid));
    // --- end of API use ---

    try (InceptionV3 net = InceptionWeights.load(weights)) {
      Evaluation.Report direct =
          Evaluation.run(
              net,
              a,
              b,
              new Evaluation.Options(
                  EnumSet.of(Evaluation.Metric.FID), Fid.Protocol.TORCH_FIDELITY, 4, false, 1),
              Progress.NONE);
      assertThat(fid)
          .isCloseTo(direct.metrics().get("frechet_inception_distance"), within(1e-9 * fid));
    }
  }

  @Test
  void requestsAreValidatedInTheApi(@TempDir Path tmp) {
    Path p = tmp.resolve("x");
    assertThatThrownBy(() -> EvaluationRequest.of(p, null, p, Set.of(EvaluationMetric.FID)))
        .hasMessageContaining("reference");
    assertThatThrownBy(() -> EvaluationRequest.of(p, p, p, Set.of()))
        .hasMessageContaining("no metric");
    assertThatThrownBy(
            () -> EvaluationRequest.of(p, p, p, Set.of(EvaluationMetric.KID)).withKid(1, 1))
        .hasMessageContaining("KID");
    assertThat(EvaluationProtocol.of("ADM")).isEqualTo(EvaluationProtocol.ADM);
    assertThatThrownBy(() -> EvaluationProtocol.of("clean")).hasMessageContaining("adm");
    assertThatThrownBy(
            () ->
                Backends.evaluate(
                    EvaluationRequest.of(p, p, p, Set.of(EvaluationMetric.FID)), Progress.NONE))
        .isInstanceOf(java.nio.file.NoSuchFileException.class)
        .hasMessageContaining("x");
  }
}
