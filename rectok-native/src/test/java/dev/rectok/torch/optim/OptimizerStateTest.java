package dev.rectok.torch.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.Parameter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** exportState/importState: a restored optimizer continues exactly like the original. */
class OptimizerStateTest {

  private static void setGrad(Parameter p, int step) {
    try (Tensor t = Tensor.of(new double[] {Math.sin(step), 0.5 * step - 1, 1.0 / step})) {
      p.data().setGrad(t);
    }
  }

  private static void continuesIdentically(
      Function<List<ParamGroup>, Optimizer> make, int expectedKeys) {
    Parameter a = new Parameter(Tensor.of(new double[] {1, -2, 3}), true);
    Parameter b = new Parameter(Tensor.of(new double[] {1, -2, 3}), true);
    try (a;
        b;
        Optimizer oa = make.apply(List.of(new ParamGroup(List.of(a), 0.1, 0.01)));
        Optimizer ob = make.apply(List.of(new ParamGroup(List.of(b), 0.1, 0.01)));
        Scope s = Scope.open()) {
      assertThat(ob.exportState()).hasSizeLessThanOrEqualTo(expectedKeys);
      for (int step = 1; step <= 3; step++) {
        setGrad(a, step);
        oa.step();
      }
      Map<String, Tensor> state = oa.exportState();
      assertThat(state).hasSize(expectedKeys);
      try (dev.rectok.torch.GradMode g = dev.rectok.torch.GradMode.noGrad()) {
        b.data().copy_(a.data());
      }
      ob.importState(state);
      for (int step = 4; step <= 6; step++) {
        setGrad(a, step);
        setGrad(b, step);
        oa.step();
        ob.step();
      }
      assertThat(b.data().equal(a.data())).isTrue();
      Map<String, Tensor> sa = oa.exportState();
      Map<String, Tensor> sb = ob.exportState();
      assertThat(sb.keySet()).isEqualTo(sa.keySet());
      sa.forEach((k, v) -> assertThat(sb.get(k).equal(v)).as(k).isTrue());
    }
  }

  @Test
  void adamwStateRoundTrips() {
    continuesIdentically(g -> new AdamW(g, 0.9, 0.95, 1e-8), 3);
  }

  @Test
  void sgdMomentumStateRoundTrips() {
    continuesIdentically(g -> new SGD(g, 0.9, 0.1, false), 1);
  }

  @Test
  void sgdWithoutMomentumHasNoState() {
    continuesIdentically(g -> new SGD(g, 0, 0, false), 0);
  }

  @Test
  void mismatchedStateIsRefusedBeforeAnythingChanges() {
    Parameter a = new Parameter(Tensor.of(new double[] {1, 2, 3}), true);
    try (a;
        AdamW opt = new AdamW(List.of(new ParamGroup(List.of(a), 0.1, 0)));
        Scope s = Scope.open()) {
      Map<String, Tensor> bad = new HashMap<>(opt.exportState());
      bad.put("0.exp_avg", Tensor.ones(2));
      bad.put("7.step", Tensor.of(new long[] {1}, 1));
      bad.put("0.exp_avg_sq", Tensor.ones(3).to(dev.rectok.api.DType.FLOAT64).fill_(5));
      assertThatThrownBy(() -> opt.importState(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("unexpected [7.step]")
          .hasMessageContaining("0.exp_avg: given");
      assertThat(opt.expAvgSq(0, 0).toDoubleArray()).containsOnly(0.0);
    }
  }
}
