package dev.rectok.torch.nn;

import dev.rectok.torch.GradMode;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;

/**
 * {@code torch.nn.init}: in-place initialisers with PyTorch's formulas and RNG consumption, so a
 * seeded generator yields PyTorch's values. A null generator means LibTorch's default one (seeded
 * by {@code Torch.manualSeed}). They run without autograd. Stateless; thread-safe.
 */
public final class Init {
  private Init() {}

  /** {@code (fan_in, fan_out)} as {@code _calculate_fan_in_and_fan_out}. */
  public static long[] fans(Tensor t) {
    long[] s = t.shape();
    if (s.length < 2) {
      throw new IllegalArgumentException(
          "fan in and fan out can not be computed for tensor with fewer than 2 dimensions");
    }
    long receptive = 1;
    for (int i = 2; i < s.length; i++) {
      receptive *= s[i];
    }
    return new long[] {s[1] * receptive, s[0] * receptive};
  }

  public static Tensor uniform_(Tensor t, double a, double b, TorchGenerator gen) {
    try (GradMode g = GradMode.noGrad()) {
      return t.uniform_(a, b, gen);
    }
  }

  public static Tensor normal_(Tensor t, double mean, double std, TorchGenerator gen) {
    try (GradMode g = GradMode.noGrad()) {
      return t.normal_(mean, std, gen);
    }
  }

  public static Tensor zeros_(Tensor t) {
    try (GradMode g = GradMode.noGrad()) {
      return t.zero_();
    }
  }

  public static Tensor ones_(Tensor t) {
    return constant_(t, 1.0);
  }

  public static Tensor constant_(Tensor t, double value) {
    try (GradMode g = GradMode.noGrad()) {
      return t.fill_(value);
    }
  }

  /**
   * {@code trunc_normal_(t, mean, std, a, b)}: inverse-CDF sampling of a normal truncated to [a,
   * b], the same draws as PyTorch (one uniform per element).
   */
  public static Tensor truncNormal_(
      Tensor t, double mean, double std, double a, double b, TorchGenerator gen) {
    double l = normCdf((a - mean) / std);
    double u = normCdf((b - mean) / std);
    try (GradMode g = GradMode.noGrad()) {
      t.uniform_(2 * l - 1, 2 * u - 1, gen);
      try (Tensor e = t.erfinv()) {
        t.copy_(e);
      }
      t.mul_(std * Math.sqrt(2.0));
      t.add_(mean);
      t.clamp_(a, b);
      return t;
    }
  }

  private static double normCdf(double x) {
    return (1.0 + erf(x / Math.sqrt(2.0))) / 2.0;
  }

  /**
   * erf to double precision (Abramowitz-Stegun is too coarse; this is W. J. Cody's rational form
   * via erfc).
   */
  static double erf(double x) {
    // Series for small |x|, continued fraction for large: both converge to ~1e-16.
    double ax = Math.abs(x);
    double r;
    if (ax < 2.5) {
      double sum = x;
      double term = x;
      double x2 = x * x;
      for (int n = 1; n < 200; n++) {
        term *= -x2 / n;
        double add = term / (2 * n + 1);
        sum += add;
        if (Math.abs(add) < 1e-17 * Math.abs(sum)) {
          break;
        }
      }
      return 2.0 / Math.sqrt(Math.PI) * sum;
    }
    // erfc(x) = exp(-x^2)/(x sqrt(pi)) * 1/(1+ 1/(2x^2)/(1+2/(2x^2)/(1+...))) via Lentz
    double f = ax;
    double c = ax;
    double d = 0;
    for (int n = 1; n < 200; n++) {
      double an = n / 2.0;
      d = ax + an * d;
      d = d == 0 ? 1e-300 : d;
      c = ax + an / c;
      c = c == 0 ? 1e-300 : c;
      d = 1 / d;
      double delta = c * d;
      f *= delta;
      if (Math.abs(delta - 1) < 1e-16) {
        break;
      }
    }
    r = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
    return x > 0 ? 1 - r : r - 1;
  }

  /** {@code xavier_uniform_(t, gain)}. */
  public static Tensor xavierUniform_(Tensor t, double gain, TorchGenerator gen) {
    long[] f = fans(t);
    double std = gain * Math.sqrt(2.0 / (f[0] + f[1]));
    double a = Math.sqrt(3.0) * std;
    return uniform_(t, -a, a, gen);
  }

  /** {@code kaiming_uniform_(t, a, mode='fan_in', nonlinearity='leaky_relu')}. */
  public static Tensor kaimingUniform_(Tensor t, double a, TorchGenerator gen) {
    long fanIn = fans(t)[0];
    double gain = Math.sqrt(2.0 / (1 + a * a));
    double bound = gain * Math.sqrt(3.0 / fanIn);
    return uniform_(t, -bound, bound, gen);
  }

  /**
   * PyTorch's default for Linear/Conv weights: {@code kaiming_uniform_(a=sqrt(5))}, i.e.
   * U(±1/sqrt(fan_in)).
   */
  public static void defaultLinear(Tensor weight, Tensor bias, TorchGenerator gen) {
    kaimingUniform_(weight, Math.sqrt(5), gen);
    if (bias != null) {
      long fanIn = fans(weight)[0];
      double bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      uniform_(bias, -bound, bound, gen);
    }
  }

  /**
   * The ViT/MAE {@code _init_weights} walk: every {@link Linear} and {@link Conv2d} under {@code
   * root} (included) gets trunc-normal(0, 0.02) weights in [−2, 2] and zero biases; other modules
   * keep their parameters. Runs without autograd.
   */
  public static void truncNormalLinearsAndConvs_(Module root, TorchGenerator gen) {
    try (GradMode g = GradMode.noGrad()) {
      Tensor w =
          root instanceof Linear l
              ? l.weight().data()
              : root instanceof Conv2d c ? c.weight().data() : null;
      Parameter b =
          root instanceof Linear l ? l.bias() : root instanceof Conv2d c ? c.bias() : null;
      if (w != null) {
        truncNormal_(w, 0, 0.02, -2, 2, gen);
        if (b != null) {
          zeros_(b.data());
        }
      }
      root.children().values().forEach(ch -> truncNormalLinearsAndConvs_(ch, gen));
    }
  }
}
