package dev.rectok.torch.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.Parameter;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Scale;
import org.junit.jupiter.api.Test;

/** AdamW, SGD and clip_grad_norm_ against hand-computed double-precision references. */
class OptimizerReferenceTest {

  private static Parameter param(double... values) {
    return new Parameter(Tensor.of(values), true);
  }

  private static void setGrad(Parameter p, double... g) {
    try (Tensor t = Tensor.of(g)) {
      p.data().setGrad(t);
    }
  }

  /** torch.optim.AdamW's update, written out in plain Java. */
  private static void adamwReference(
      double[] p,
      double[] g,
      double[] m,
      double[] v,
      int step,
      double lr,
      double b1,
      double b2,
      double eps,
      double wd) {
    double bc1 = 1 - Math.pow(b1, step);
    double bc2 = 1 - Math.pow(b2, step);
    for (int i = 0; i < p.length; i++) {
      p[i] *= 1 - lr * wd;
      m[i] = m[i] * b1 + (1 - b1) * g[i];
      v[i] = v[i] * b2 + (1 - b2) * g[i] * g[i];
      double denom = Math.sqrt(v[i]) / Math.sqrt(bc2) + eps;
      p[i] -= lr / bc1 * m[i] / denom;
    }
  }

  @Property(tries = 40)
  void adamwMatchesTheReferenceOverSeveralStepsWithTwoGroups(
      @ForAll @DoubleRange(min = 1e-4, max = 0.1) @Scale(8) double lr,
      @ForAll @DoubleRange(min = 0, max = 0.2) @Scale(8) double wd,
      @ForAll @IntRange(min = 1, max = 6) int steps) {
    double[] pa = {0.5, -1.25, 2.0};
    double[] pb = {3.0, -0.75};
    double[] ma = new double[3];
    double[] va = new double[3];
    double[] mb = new double[2];
    double[] vb = new double[2];
    Parameter a = param(pa.clone());
    Parameter b = param(pb.clone());
    try (a;
        b;
        AdamW opt =
            new AdamW(
                List.of(new ParamGroup(List.of(a), lr, wd), new ParamGroup(List.of(b), lr / 2, 0)),
                0.9,
                0.95,
                1e-8)) {
      for (int s = 1; s <= steps; s++) {
        double[] ga = {Math.sin(s), 0.1 * s, -0.3};
        double[] gb = {1.0 / s, -2.0};
        setGrad(a, ga);
        setGrad(b, gb);
        opt.step();
        adamwReference(pa, ga, ma, va, s, lr, 0.9, 0.95, 1e-8, wd);
        adamwReference(pb, gb, mb, vb, s, lr / 2, 0.9, 0.95, 1e-8, 0);
      }
      double[] ja = a.data().toDoubleArray();
      double[] jb = b.data().toDoubleArray();
      for (int i = 0; i < 3; i++) {
        assertThat(ja[i]).isCloseTo(pa[i], within(1e-12));
      }
      for (int i = 0; i < 2; i++) {
        assertThat(jb[i]).isCloseTo(pb[i], within(1e-12));
      }
      assertThat(opt.stepCount(0, 0)).isEqualTo(steps);
    }
  }

  @Test
  void adamwSkipsParametersWithoutGradientsAndKeepsTheirStepCount() {
    Parameter a = param(1, 2);
    Parameter b = param(3, 4);
    try (a;
        b;
        AdamW opt = new AdamW(List.of(new ParamGroup(List.of(a, b), 0.1, 0.1)))) {
      setGrad(a, 1, 1);
      opt.step();
      assertThat(b.data().toDoubleArray()).containsExactly(3, 4);
      assertThat(opt.stepCount(0, 0)).isEqualTo(1);
      assertThat(opt.stepCount(0, 1)).isZero();
      assertThat(a.data().toDoubleArray()[0]).isNotEqualTo(1.0);
    }
  }

  @Test
  void sgdWithMomentumMatchesTheReference() {
    double[] p = {1.0, -2.0};
    double[] buf = new double[2];
    double lr = 0.1;
    double mom = 0.9;
    double damp = 0.1;
    double wd = 0.01;
    Parameter a = param(p.clone());
    try (a;
        SGD opt = new SGD(List.of(new ParamGroup(List.of(a), lr, wd)), mom, damp, false)) {
      for (int s = 1; s <= 4; s++) {
        double[] g = {0.5 * s, -1.0};
        setGrad(a, g);
        opt.step();
        for (int i = 0; i < 2; i++) {
          double d = g[i] + wd * p[i];
          buf[i] = s == 1 ? d : buf[i] * mom + (1 - damp) * d;
          p[i] -= lr * buf[i];
        }
      }
      double[] j = a.data().toDoubleArray();
      assertThat(j[0]).isCloseTo(p[0], within(1e-12));
      assertThat(j[1]).isCloseTo(p[1], within(1e-12));
    }
  }

  @Property(tries = 40)
  void clipGradNormMatchesTheReference(
      @ForAll @DoubleRange(min = 0.01, max = 10) @Scale(8) double maxNorm) {
    Parameter a = param(0, 0, 0);
    Parameter b = param(0, 0);
    Parameter c = param(0); // no gradient: ignored
    try (a;
        b;
        c) {
      double[] ga = {3, -4, 1};
      double[] gb = {2, 0.5};
      setGrad(a, ga);
      setGrad(b, gb);
      double total = Math.sqrt(9 + 16 + 1 + 4 + 0.25);
      double coef = Math.min(1.0, maxNorm / (total + 1e-6));
      double got = ClipGrad.clipGradNorm(List.of(a, b, c), maxNorm);
      assertThat(got).isCloseTo(total, within(1e-12));
      try (Scope s = Scope.open()) {
        double[] ja = a.grad().toDoubleArray();
        double[] jb = b.grad().toDoubleArray();
        for (int i = 0; i < 3; i++) {
          assertThat(ja[i]).isCloseTo(ga[i] * coef, within(1e-12));
        }
        for (int i = 0; i < 2; i++) {
          assertThat(jb[i]).isCloseTo(gb[i] * coef, within(1e-12));
        }
        assertThat(c.grad()).isNull();
      }
    }
  }

  @Test
  void infinityNormClipping() {
    Parameter a = param(0, 0);
    try (a) {
      setGrad(a, 3, -5);
      double total = ClipGrad.clipGradNorm(List.of(a), 1.0, Double.POSITIVE_INFINITY);
      assertThat(total).isEqualTo(5.0);
      try (Tensor g = a.grad()) {
        assertThat(g.toDoubleArray()[1]).isCloseTo(-5 / (5 + 1e-6), within(1e-12));
      }
    }
  }
}
