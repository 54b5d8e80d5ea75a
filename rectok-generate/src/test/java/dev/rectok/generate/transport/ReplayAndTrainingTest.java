package dev.rectok.generate.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.models.golden.GoldenCase;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplayAndTrainingTest {

  static GoldenCase case3b() throws IOException {
    return GoldenCase.open(Path.of(System.getProperty("rectok.golden.dir"), "case3b_dit_sampling"));
  }

  @Test
  void case3bGridIsTheSamplersGrid() throws IOException {
    try (GoldenCase g = case3b()) {
      var sampling = g.config().path("sampling");
      Sampler sampler =
          Sampler.euler(
              sampling.path("grid_points").asInt(), sampling.path("timestep_shift").asDouble());
      assertThat(sampler.steps()).isEqualTo(sampling.path("euler_steps").asInt());
      try (Tensor grid = Tensor.of(sampler.grid())) {
        GoldenCase.Comparison c = g.compare("derived.time_grid", grid);
        assertThat(c.maxAbsError()).as(c.toString()).isZero();
      }
    }
  }

  /**
   * Replays case3b's no-guidance trajectory with the velocities it implies: the sampler must
   * evaluate exactly at grid points 0..n-2 (never at t = 1), once each, in order, and compose the
   * states as the reference did. The network itself is checked by the lead's DiT replay.
   */
  @Test
  void case3bTrajectoryReplaysThroughTheEulerLoop() throws IOException {
    try (GoldenCase g = case3b();
        Scope s = Scope.open()) {
      Tensor traj = g.tensor("output.trajectory_no_guidance");
      float[] grid = g.tensor("derived.time_grid").toFloatArray();
      Tensor traj64 = traj.to(DType.FLOAT64);
      List<Float> evaluatedAt = new ArrayList<>();
      VelocityModel recorded =
          (x, t, y) -> {
            int i = evaluatedAt.size();
            float[] tv = t.toFloatArray();
            assertThat(tv).containsOnly(tv[0]);
            evaluatedAt.add(tv[0]);
            double dt = (double) grid[i + 1] - grid[i];
            return traj64.select(0, i + 1).sub(traj64.select(0, i)).div(dt).to(DType.FLOAT32);
          };
      Tensor noise = g.tensor("input.initial_noise");
      Tensor labels = g.tensor("input.labels");
      List<GoldenCase.Comparison> states = new ArrayList<>();
      Sampler.Hooks hooks =
          Sampler.Hooks.NONE.withListener(
              (point, t, state) ->
                  states.add(
                      GoldenCase.compare(
                          "trajectory[" + point + "]", state, traj.select(0, point))));
      Tensor out =
          Sampler.euler(grid.length, g.config().path("sampling").path("timestep_shift").asDouble())
              .sample(recorded, Guidance.none(), noise, labels, hooks);
      assertThat(evaluatedAt).hasSize(grid.length - 1);
      for (int i = 0; i < grid.length - 1; i++) {
        assertThat(evaluatedAt.get(i)).isEqualTo(grid[i]);
      }
      assertThat(states)
          .hasSize(grid.length - 1)
          .allSatisfy(c -> assertThat(c.relError()).as(c.toString()).isLessThan(1e-6));
      GoldenCase.Comparison c = g.compare("output.samples_no_guidance", out);
      assertThat(c.relError()).as(c.toString()).isLessThan(1e-6);
    }
  }

  @Test
  void trainingBatchIsTheLinearPathAtShiftedTimes() {
    try (Scope s = Scope.open();
        TorchGenerator gen = TorchGenerator.cpu(5)) {
      Tensor x1 = Tensor.randn(gen, 4, 3, 2, 2);
      try (TrainingBatch b = TrainingBatch.draw(x1, Math.sqrt(8), gen)) {
        assertThat(b.t().shape()).containsExactly(4);
        assertThat(b.x0().shape()).containsExactly(4, 3, 2, 2);
        float[] t = b.t().toFloatArray();
        float[] x0 = b.x0().toFloatArray();
        float[] x1v = x1.toFloatArray();
        float[] xt = b.xt().toFloatArray();
        float[] target = b.target().toFloatArray();
        for (int i = 0; i < xt.length; i++) {
          float ti = t[i / 12];
          assertThat(xt[i]).isEqualTo(ti * x1v[i] + (1f - ti) * x0[i]);
          assertThat(target[i]).isEqualTo(x1v[i] - x0[i]);
        }
        // A perfect prediction has zero loss; predicting zero costs the mean squared target.
        assertThat(b.loss(b.target()).item()).isZero();
        double msq = 0;
        for (float v : target) {
          msq += (double) v * v;
        }
        assertThat(b.loss(Tensor.zeros(4, 3, 2, 2)).item())
            .isCloseTo(msq / target.length, org.assertj.core.api.Assertions.within(1e-5));
      }
      // Same seed, same batch.
      try (TorchGenerator g1 = TorchGenerator.cpu(9);
          TorchGenerator g2 = TorchGenerator.cpu(9);
          TrainingBatch a = TrainingBatch.draw(x1, 2.0, g1);
          TrainingBatch b = TrainingBatch.draw(x1, 2.0, g2)) {
        assertThat(a.xt().equal(b.xt())).isTrue();
        assertThat(a.t().equal(b.t())).isTrue();
      }
    }
  }

  @Test
  void initialNoiseIsTheCpuDrawOfTheSeed() {
    try (Scope s = Scope.open();
        TorchGenerator a = TorchGenerator.cpu(11);
        TorchGenerator b = TorchGenerator.cpu(11)) {
      Tensor n = Sampler.initialNoise(a, Device.CPU, 2, 4, 3, 3);
      assertThat(n.shape()).containsExactly(2, 4, 3, 3);
      assertThat(n.equal(Tensor.randn(b, 2, 4, 3, 3))).isTrue();
    }
  }
}
