package dev.rectok.train.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.nn.Linear;
import dev.rectok.torch.nn.Sequential;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class EmaTest {

  private static Sequential net(long seed) {
    Linear a = new Linear(3, 4, true);
    Linear b = new Linear(4, 2, true);
    try (TorchGenerator g = TorchGenerator.cpu(seed)) {
      a.resetParameters(g);
      b.resetParameters(g);
    }
    return new Sequential(a, b);
  }

  /** k steps towards a fixed p from e0: ema_k = p + d^k (e0 − p); frozen parameters equal p. */
  @Property(tries = 25)
  void closedFormAfterKSteps(
      @ForAll @DoubleRange(min = 0, max = 1) double d, @ForAll @IntRange(min = 1, max = 6) int k) {
    try (Sequential model = net(1);
        Sequential shadow = net(2);
        Scope s = Scope.open()) {
      Ema ema = new Ema(model, shadow);
      Tensor e0 = shadow.parameters().get(0).data().clone();
      assertThat(e0.equal(model.parameters().get(0).data()))
          .as("initialized from the model")
          .isTrue();
      model.parameters().get(3).requiresGrad_(false); // frozen: copied, not averaged
      ema = new Ema(model, shadow);
      try (GradMode g = GradMode.noGrad()) {
        model.parameters().get(0).data().add_(1.0);
        model.parameters().get(3).data().add_(5.0);
      }
      for (int i = 0; i < k; i++) {
        ema.update(d);
      }
      Tensor p = model.parameters().get(0).data();
      Tensor expected = e0.sub(p).mul(Math.pow(d, k)).add(p);
      assertThat(shadow.parameters().get(0).data().sub(expected).abs().max().item())
          .isLessThan(1e-5);
      assertThat(shadow.parameters().get(3).data().equal(model.parameters().get(3).data()))
          .isTrue();
      assertThat(shadow.parameters().get(0).requiresGrad()).isFalse();
    }
  }

  @Test
  void rejectsBadDecayAndMismatchedShadow() {
    try (Sequential model = net(1);
        Sequential shadow = net(2);
        Linear other = new Linear(3, 4, true)) {
      Ema ema = new Ema(model, shadow);
      assertThatThrownBy(() -> ema.update(1.5)).hasMessageContaining("decay");
      assertThatThrownBy(() -> new Ema(model, other)).hasMessageContaining("different parameters");
    }
  }
}
