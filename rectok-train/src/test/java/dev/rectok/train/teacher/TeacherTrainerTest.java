package dev.rectok.train.teacher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.Progress;
import dev.rectok.torch.Tensor;
import dev.rectok.train.TestData;
import dev.rectok.train.data.FashionMnist;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TeacherTrainerTest {
  /** Patch 8 (a 4×4 grid) learns several times faster than the demo's patch 4 on 2000 images. */
  private static final VitTeacherConfig TINY =
      VitTeacherConfig.builder().patchSize(8).width(64).depth(2).heads(4).build();

  @Test
  void shortRunOnTwoThousandImagesIsWellAboveChance() throws IOException {
    TestData.fashionMnist();
    FashionMnist train = FashionMnist.load(FashionMnist.defaultDir(), true, 2000);
    FashionMnist test = FashionMnist.load(FashionMnist.defaultDir(), false, 1000);
    AtomicLong updates = new AtomicLong();
    AtomicLong total = new AtomicLong();
    Progress p =
        new Progress() {
          @Override
          public void start(String task, long t) {
            total.set(t);
          }

          @Override
          public void update(long done, String status) {
            updates.incrementAndGet();
          }
        };
    TeacherTrainer.Config cfg =
        TeacherTrainer.Config.builder()
            .model(TINY)
            .epochs(20)
            .maxSteps(300)
            .batchSize(64)
            .lr(2e-3)
            .warmupEpochs(0.5)
            .seed(1)
            .build();
    long t0 = System.nanoTime();
    try (Tensor tx = train.paddedImagesTensor(32);
        Tensor ty = train.labelsTensor();
        Tensor vx = test.paddedImagesTensor(32);
        Tensor vy = test.labelsTensor()) {
      TeacherTrainer.Trained t = TeacherTrainer.run(cfg, tx, ty, vx, vy, p);
      t.model().close();
      TeacherTrainer.Result r = t.result();
      double seconds = (System.nanoTime() - t0) / 1e9;
      System.out.printf("teacher short run: %s in %.1f s%n", r, seconds);
      assertThat(r.steps()).isEqualTo(300);
      assertThat(total.get()).isEqualTo(300);
      assertThat(updates.get()).isEqualTo(300);
      assertThat(r.epochLoss()).hasSize(10); // 32 steps per epoch: 9 full epochs and a partial one
      assertThat(r.epochLoss().getLast()).isLessThan(r.epochLoss().getFirst());
      // 77.9% measured (seed 1); chance is 10%
      assertThat(r.testAccuracy()).isGreaterThan(0.60);
      assertThat(r.imagesPerSecond()).isPositive();
      // about 19 CPU-seconds: 10 s on an idle 2-core machine, 15 s under load; the bound only
      // catches a run that went badly wrong, not a busy machine
      assertThat(seconds).isLessThan(120);
    }
  }

  @Test
  void runsAreDeterministicFromTheSeed() {
    try (var g = dev.rectok.torch.TorchGenerator.cpu(0);
        Tensor x = Tensor.rand(g, 96, 1, 16, 16).mul(2).sub(1);
        Tensor y =
            Tensor.of(java.util.stream.LongStream.range(0, 96).map(i -> i % 3).toArray(), 96)) {
      VitTeacherConfig m =
          VitTeacherConfig.builder().imgSize(16).width(16).depth(1).heads(2).numClasses(3).build();
      TeacherTrainer.Config cfg =
          TeacherTrainer.Config.builder().model(m).epochs(2).batchSize(32).seed(7).build();
      TeacherTrainer.Trained a = TeacherTrainer.run(cfg, x, y, x, y, Progress.NONE);
      TeacherTrainer.Trained b = TeacherTrainer.run(cfg, x, y, x, y, Progress.NONE);
      TeacherTrainer.Trained c =
          TeacherTrainer.run(cfg.toBuilder().seed(8).build(), x, y, x, y, Progress.NONE);
      try (VitTeacher ma = a.model();
          VitTeacher mb = b.model();
          VitTeacher mc = c.model()) {
        assertThat(a.result().epochLoss()).isEqualTo(b.result().epochLoss()).hasSize(2);
        assertThat(a.result().steps()).isEqualTo(6);
        assertThat(c.result().epochLoss()).isNotEqualTo(a.result().epochLoss());
        assertThat(ma.stateDict().get("head.weight").equal(mb.stateDict().get("head.weight")))
            .isTrue();
        assertThat(ma.isTraining()).isFalse();
      }
    }
  }

  @Test
  void badSettingsAndDataAreRejected() {
    assertThatThrownBy(() -> TeacherTrainer.Config.builder().epochs(0).lr(-1).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("epochs must be positive, got 0")
        .hasMessageContaining("lr > 0");
    assertThatThrownBy(() -> TeacherTrainer.Config.builder().maxSteps(-3).batchSize(0).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("max steps must be >= 0")
        .hasMessageContaining("batch size must be positive");
    TeacherTrainer.Config cfg = TeacherTrainer.Config.builder().model(TINY).build();
    try (Tensor x = Tensor.zeros(4, 1, 28, 28);
        Tensor y = Tensor.zeros(4);
        Tensor x32 = Tensor.zeros(4, 1, 32, 32);
        Tensor y3 = Tensor.zeros(3)) {
      assertThatThrownBy(() -> TeacherTrainer.run(cfg, x, y, x, y, Progress.NONE))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("train images must be (N, 1 or 3, 32, 32)");
      assertThatThrownBy(() -> TeacherTrainer.run(cfg, x32, y3, x32, y3, Progress.NONE))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("train labels must be (N) with N = 4");
    }
  }
}
