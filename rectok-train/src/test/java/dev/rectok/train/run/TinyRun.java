package dev.rectok.train.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.nn.Activation;
import dev.rectok.torch.nn.Linear;
import dev.rectok.torch.nn.Module;
import dev.rectok.torch.nn.Parameter;
import dev.rectok.torch.nn.Sequential;
import dev.rectok.torch.optim.AdamW;
import dev.rectok.torch.optim.Optimizer;
import dev.rectok.torch.optim.ParamGroup;
import dev.rectok.torch.optim.SGD;
import java.util.List;
import java.util.Map;

/**
 * A tiny but complete deterministic training setup: an MLP regressed with AdamW (two groups,
 * decaying lr) on data drawn from a seeded generator, label noise from a second generator, an EMA
 * copy, and a critic trained with SGD momentum. Every piece of state a real trainer has.
 */
final class TinyRun implements AutoCloseable {
  static final int STEPS_PER_EPOCH = 4;

  final Sequential model;
  final Sequential ema;
  final Linear critic;
  final AdamW opt;
  final SGD criticOpt;
  final TorchGenerator data;
  final TorchGenerator noise;
  final TrainingCheckpoint checkpoint;
  final TinyConfig config;
  long step;
  double lastLoss;

  TinyRun(TinyConfig config) {
    this.config = config;
    try (TorchGenerator init = TorchGenerator.cpu(config.seed())) {
      model = mlp(init);
      ema = mlp(init);
      critic = new Linear(2, 1, true);
      critic.resetParameters(init);
    }
    try (GradMode g = GradMode.noGrad()) {
      ema.loadStateDict(model.stateDict(), true);
    }
    ema.requiresGrad_(false);
    List<Parameter> ps = model.parameters();
    opt =
        new AdamW(
            List.of(
                new ParamGroup(List.of(ps.get(0), ps.get(2)), config.lr(), 0.05),
                new ParamGroup(List.of(ps.get(1), ps.get(3)), config.lr(), 0)),
            0.9,
            0.95,
            1e-8);
    criticOpt = new SGD(List.of(new ParamGroup(critic.parameters(), 0.05, 0.01)), 0.9, 0.1, false);
    data = TorchGenerator.cpu(config.seed() + 1);
    noise = TorchGenerator.cpu(config.seed() + 2);
    checkpoint =
        new TrainingCheckpoint()
            .module("model", model)
            .module("ema", ema)
            .module("critic", critic)
            .optimizer("opt", opt)
            .optimizer("critic_opt", criticOpt)
            .generator("data", data)
            .generator("noise", noise);
  }

  private static Sequential mlp(TorchGenerator init) {
    Linear a = new Linear(4, 16, true);
    Linear b = new Linear(16, 2, true);
    a.resetParameters(init);
    b.resetParameters(init);
    return new Sequential(a, Activation.tanh(), b);
  }

  /** One optimizer step of every trained part. */
  void step() {
    for (ParamGroup g : opt.paramGroups()) {
      g.lr(config.lr() * (1.0 - 0.5 * Math.min(1.0, step / 100.0)));
    }
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.randn(data, config.batch(), 4);
      Tensor y =
          x.narrow(1, 0, 2)
              .mul(2)
              .add(x.narrow(1, 2, 2).sin())
              .add(Tensor.randn(noise, config.batch(), 2).mul(0.01));
      opt.zeroGrad();
      Tensor pred = model.forward(x);
      Tensor loss = pred.sub(y).pow(2).mean();
      loss.backward();
      opt.step();
      criticOpt.zeroGrad();
      Tensor closs = critic.forward(pred.detach()).sub(loss.detach()).pow(2).mean();
      closs.backward();
      criticOpt.step();
      try (GradMode g = GradMode.noGrad()) {
        Map<String, Tensor> e = ema.stateDict();
        model.stateDict().forEach((k, v) -> e.get(k).lerp_(v, 0.1));
      }
      lastLoss = loss.item();
    }
    step++;
  }

  TrainingCheckpoint.Counters counters() {
    var extras = TrainingCheckpoint.JSON.createObjectNode().put("last_loss", lastLoss);
    return new TrainingCheckpoint.Counters(
        step,
        step / STEPS_PER_EPOCH,
        new long[] {step / STEPS_PER_EPOCH, step % STEPS_PER_EPOCH},
        extras);
  }

  void restored(TrainingCheckpoint.Counters c) {
    step = c.step();
    lastLoss = c.extras().path("last_loss").asDouble();
  }

  /**
   * Asserts every parameter, buffer, optimizer state, lr and generator state equals {@code
   * other}'s, bit for bit.
   */
  void assertIdenticalTo(TinyRun other) {
    assertThat(step).isEqualTo(other.step);
    sameState("model", model, other.model);
    sameState("ema", ema, other.ema);
    sameState("critic", critic, other.critic);
    sameOptimizer("opt", opt, other.opt);
    sameOptimizer("critic_opt", criticOpt, other.criticOpt);
    try (Scope s = Scope.open()) {
      assertThat(data.getState().equal(other.data.getState())).as("data generator").isTrue();
      assertThat(noise.getState().equal(other.noise.getState())).as("noise generator").isTrue();
    }
    assertThat(Double.doubleToRawLongBits(lastLoss))
        .isEqualTo(Double.doubleToRawLongBits(other.lastLoss));
  }

  private static void sameState(String what, Module a, Module b) {
    Map<String, Tensor> sb = b.stateDict();
    assertThat(sb.keySet()).isEqualTo(a.stateDict().keySet());
    a.stateDict().forEach((k, v) -> assertThat(v.equal(sb.get(k))).as(what + "." + k).isTrue());
  }

  private static void sameOptimizer(String what, Optimizer a, Optimizer b) {
    try (Scope s = Scope.open()) {
      Map<String, Tensor> sa = a.exportState();
      Map<String, Tensor> sb = b.exportState();
      assertThat(sb.keySet()).isEqualTo(sa.keySet()).isNotEmpty();
      sa.forEach((k, v) -> assertThat(v.equal(sb.get(k))).as(what + " " + k).isTrue());
    }
    for (int i = 0; i < a.paramGroups().size(); i++) {
      assertThat(b.paramGroups().get(i).lr()).isEqualTo(a.paramGroups().get(i).lr());
    }
  }

  @Override
  public void close() {
    opt.close();
    criticOpt.close();
    model.close();
    ema.close();
    critic.close();
    data.close();
    noise.close();
  }
}
