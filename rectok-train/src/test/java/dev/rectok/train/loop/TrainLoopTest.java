package dev.rectok.train.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.Progress;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.nn.Linear;
import dev.rectok.torch.optim.AdamW;
import dev.rectok.torch.optim.LrSchedule;
import dev.rectok.train.run.RunDirectory;
import dev.rectok.train.run.TrainingCheckpoint;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainLoopTest {

  /**
   * Linear regression of the label from the pixels, with a schedule, an EMA and an RNG in its
   * state.
   */
  static final class Regression implements TrainingTask {
    final Linear model = new Linear(3 * 4 * 4, 1, true);
    final Linear shadow = new Linear(3 * 4 * 4, 1, true);
    final AdamW opt;
    final Ema ema;
    final TorchGenerator noise = TorchGenerator.cpu(7);
    final LrSchedule schedule = LrSchedule.warmupCosine(1e-2, 0, 1, 3);

    Regression() {
      try (TorchGenerator g = TorchGenerator.cpu(3)) {
        model.resetParameters(g);
      }
      opt = new AdamW(ParamGroups.reference(model, 1e-2, 0.01), 0.9, 0.95, 1e-8);
      ema = new Ema(model, shadow);
    }

    @Override
    public void register(TrainingCheckpoint c) {
      c.module("model", model)
          .module("ema", shadow)
          .optimizer("opt", opt)
          .generator("noise", noise);
    }

    @Override
    public Map<String, Double> step(Batch batch, double epoch) {
      double lr = schedule.apply(opt, epoch);
      try (Scope s = Scope.open()) {
        opt.zeroGrad();
        Tensor x =
            batch.images().flatten(1, -1).add(Tensor.randn(noise, batch.size(), 48).mul(0.01));
        Tensor loss =
            model
                .forward(x)
                .squeeze(1)
                .sub(batch.labels().to(dev.rectok.api.DType.FLOAT32))
                .pow(2)
                .mean();
        loss.backward();
        opt.step();
        ema.update(0.9);
        return Map.of("loss", loss.item(), "lr", lr);
      }
    }

    @Override
    public void close() {
      opt.close();
      model.close();
      shadow.close();
      noise.close();
    }
  }

  static Tensor[] data() {
    try (TorchGenerator g = TorchGenerator.cpu(11);
        Scope s = Scope.open()) {
      Tensor x = Tensor.rand(g, 40, 1, 4, 4).mul(2).sub(1);
      Tensor y = x.mean(new long[] {1, 2, 3}, false).gt(0).to(dev.rectok.api.DType.INT64);
      return new Tensor[] {s.keep(x), s.keep(y)};
    }
  }

  record Result(Tensor weight, List<String> metrics, TrainLoop.Outcome outcome) {}

  static Result train(Path dir, TrainLoop.Limits... legs) throws Exception {
    Tensor[] d = data();
    TrainLoop.Outcome out = null;
    try {
      for (TrainLoop.Limits leg : legs) {
        try (Regression task = new Regression();
            RunDirectory run = RunDirectory.open(dir, Map.of("lr", 1e-2), 2)) {
          out =
              TrainLoop.run(
                  run, new TensorBatches(d[0], d[1], 8, 5, true), task, leg, Progress.NONE);
          if (leg == legs[legs.length - 1]) {
            List<String> lines = new ArrayList<>();
            run.readMetrics()
                .forEach(
                    n -> {
                      ((com.fasterxml.jackson.databind.node.ObjectNode) n)
                          .remove("images_per_second"); // wall-clock
                      lines.add(n.toString());
                    });
            return new Result(task.shadow.weight().data().clone().escape(), lines, out);
          }
        }
      }
      throw new AssertionError();
    } finally {
      d[0].close();
      d[1].close();
    }
  }

  @Test
  void stoppingAndResumingEqualsAnUninterruptedRun(@TempDir Path tmp) throws Exception {
    TrainLoop.Limits full = TrainLoop.Limits.epochs(3).withIntervals(4, 1);
    Result straight = train(tmp.resolve("a"), full);
    Result legs = train(tmp.resolve("b"), full.withMaxSteps(7), full.withMaxSteps(9), full);
    try (Tensor a = straight.weight();
        Tensor b = legs.weight()) {
      assertThat(a.equal(b)).as("EMA weights bit-identical").isTrue();
    }
    assertThat(straight.outcome().steps()).isEqualTo(15); // 3 epochs of 40 / 8
    assertThat(legs.outcome().resumedAtStep()).isEqualTo(9);
    assertThat(legs.outcome().completed()).isTrue();
    assertThat(legs.metrics()).isEqualTo(straight.metrics());
  }

  @Test
  void stopsAtTheStepAndTimeLimits(@TempDir Path tmp) throws Exception {
    Result r = train(tmp.resolve("s"), TrainLoop.Limits.epochs(100).withMaxSteps(6));
    assertThat(r.outcome().stoppedBy()).isEqualTo("max-steps");
    assertThat(r.outcome().steps()).isEqualTo(6);
    r.weight().close();
    Result t =
        train(
            tmp.resolve("t"),
            TrainLoop.Limits.epochs(1_000_000).withMaxTime(Duration.ofMillis(300)));
    assertThat(t.outcome().stoppedBy()).isEqualTo("max-time");
    assertThat(t.outcome().completed()).isFalse();
    t.weight().close();
  }

  @Test
  void tensorBatchesCoverEachEpochOnceAndFlipDeterministically() {
    Tensor[] d = data();
    try (Scope s = Scope.open()) {
      TensorBatches src = new TensorBatches(d[0], d[1], 8, 5, true);
      Set<Long> seen = new HashSet<>();
      List<Tensor> first = new ArrayList<>();
      try (BatchSource.Pass p = src.open(1, null)) {
        while (p.hasNext()) {
          Batch b = p.next();
          first.add(b.images());
          assertThat(b.images().shape()).containsExactly(8, 3, 4, 4);
          for (long i : b.indices()) {
            assertThat(seen.add(i)).isTrue();
          }
        }
      }
      assertThat(seen).hasSize(40);
      try (BatchSource.Pass p = src.open(1, new long[] {3})) {
        assertThat(p.next().images().equal(first.get(3)))
            .as("resumed pass continues exactly")
            .isTrue();
      }
      assertThatThrownBy(() -> new TensorBatches(d[0], d[1], 41, 5, true))
          .hasMessageContaining("batch size");
    } finally {
      d[0].close();
      d[1].close();
    }
  }
}
