package dev.rectok.train.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.api.Device;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.train.TestData;
import dev.rectok.train.data.FashionMnist;
import dev.rectok.train.loop.Batch;
import dev.rectok.train.loss.ModuleTeacher;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Learning on real images: 40 stage-1 steps on a fixed batch of Fashion-MNIST (32×32, RGB by
 * expansion) with a random frozen patch-projection teacher. Masking, latent noise and the semantic
 * loss are on; the total, pixel and semantic losses must fall clearly.
 */
class FashionMnistDistillationTest {

  @Test
  void totalLossFallsOverFortySteps() throws IOException {
    Path dir = TestData.fashionMnist();
    FashionMnist data = FashionMnist.load(dir, true, 256);
    TokenizerTrainingConfig cfg =
        TokenizerTrainingConfig.builder()
            .epochs(40)
            .batchSize(16)
            .lr(2e-3)
            .warmupRate(0.05)
            .discriminatorStartEpoch(999)
            .discriminatorNdf(8)
            .seed(11)
            .build();
    List<Map<String, Double>> log = new ArrayList<>();
    try (Scope s = Scope.open();
        ModuleTeacher teacher = TinyTokenizer.teacher(5);
        TokenizerTrainer t =
            TokenizerTrainer.stage1(cfg, TinyTokenizer.modelConfig(), teacher, null, Device.CPU)) {
      Tensor images =
          data.paddedImagesTensor(32).narrow(0, 0, 16).expand(-1, 3, -1, -1).contiguous();
      Batch batch = TinyTokenizer.batch(images);
      for (int i = 0; i < 40; i++) {
        log.add(t.step(batch, i)); // one step per "epoch": the whole warmup-cosine schedule
      }
    }
    double first = mean(log.subList(0, 5), "loss");
    double last = mean(log.subList(35, 40), "loss");
    System.out.printf(
        "Fashion-MNIST stage 1, 40 steps: loss %.4f -> %.4f, pixel %.4f -> %.4f, sem %.4f -> %.4f%n",
        first,
        last,
        mean(log.subList(0, 5), "pixel_mse"),
        mean(log.subList(35, 40), "pixel_mse"),
        mean(log.subList(0, 5), "sem_cosine"),
        mean(log.subList(35, 40), "sem_cosine"));
    assertThat(last).isLessThan(0.6 * first);
    assertThat(mean(log.subList(35, 40), "pixel_mse"))
        .isLessThan(mean(log.subList(0, 5), "pixel_mse"));
    assertThat(mean(log.subList(35, 40), "sem_cosine"))
        .isLessThan(mean(log.subList(0, 5), "sem_cosine"));
    assertThat(log).allSatisfy(m -> assertThat(m.get("loss")).isFinite());
  }

  private static double mean(List<Map<String, Double>> rows, String key) {
    return rows.stream().mapToDouble(m -> m.get(key)).average().orElseThrow();
  }
}
