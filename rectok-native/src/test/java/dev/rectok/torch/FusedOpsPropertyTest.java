package dev.rectok.torch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.DType;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * The shim's fused CPU kernels ({@link F#modulate}, {@link F#applyRotaryEmb}, {@link F#rmsNorm},
 * {@link Tensor#addcmul}) against the chains of ATen ops they replace, written out here op by op as
 * the reference writes them. Random shapes, per-sample and per-token broadcasts, strided views
 * (chunks of an adaLN output, q and k of a permuted qkv). Where the shim promises bit-identical
 * results the comparison is {@code torch.equal}; RMSNorm, whose sum runs in another order, is held
 * to 1e-6 against float64, and addcmul (ATen's kernel, possibly one FMA) to an ulp. The composite
 * fallback (float64, autograd) is checked too.
 */
class FusedOpsPropertyTest {
  private static long liveBefore;

  @BeforeContainer
  static void countHandles() {
    liveBefore = Tensor.liveHandles();
  }

  @AfterContainer
  static void nothingLeaked() {
    assertThat(Tensor.liveHandles()).isLessThanOrEqualTo(liveBefore);
  }

  /** {@code x * (1 + scale) + shift}, op by op (the reference's DDTModulate). */
  private static Tensor modulateComposite(Tensor x, Tensor shift, Tensor scale) {
    return x.mul(scale.add(1.0)).add(shift);
  }

  /**
   * {@code x * cos + rotate_half(x) * sin}, op by op (reshape, unbind, stack((-x2, x1)), flatten).
   */
  private static Tensor rotaryComposite(Tensor x, Tensor cos, Tensor sin) {
    long[] shape = x.shape();
    long[] paired = new long[shape.length + 1];
    System.arraycopy(shape, 0, paired, 0, shape.length);
    paired[shape.length - 1] = shape[shape.length - 1] / 2;
    paired[shape.length] = 2;
    Tensor p = x.reshape(paired);
    Tensor rotated =
        Tensor.stack(new Tensor[] {p.select(-1, 1).neg(), p.select(-1, 0)}, -1).reshape(shape);
    return x.mul(cos).add(rotated.mul(sin));
  }

  private static Tensor rmsNormComposite(Tensor x, Tensor w, double eps) {
    return x.mul(x.pow(2.0).mean(new long[] {-1}, true).add(eps).rsqrt()).mul(w);
  }

  @Property(tries = 80)
  void modulateEqualsTheCompositeBitForBit(
      @ForAll @IntRange(min = 1, max = 3) int b,
      @ForAll @IntRange(min = 1, max = 9) int n,
      @ForAll @IntRange(min = 1, max = 70) int d,
      @ForAll boolean perToken,
      @ForAll boolean chunkViews,
      @ForAll long seed) {
    try (Scope s = Scope.open();
        GradMode g = GradMode.inferenceMode();
        TorchGenerator gen = TorchGenerator.cpu(seed)) {
      Tensor x = Tensor.randn(gen, b, n, d);
      long rows = perToken ? n : 1;
      Tensor shift;
      Tensor scale;
      if (chunkViews) {
        // as the blocks get them: chunks of one adaLN output, row stride 6d
        Tensor m = Tensor.randn(gen, b, rows, 6L * d);
        shift = m.narrow(2, 0, d);
        scale = m.narrow(2, d, d);
      } else {
        shift = Tensor.randn(gen, b, rows, d);
        scale = Tensor.randn(gen, b, rows, d);
      }
      long calls = Torch.fusedKernelCalls();
      Tensor fused = F.modulate(x, shift, scale);
      assertThat(Torch.fusedKernelCalls()).as("the fused kernel ran").isGreaterThan(calls);
      assertThat(fused.shape()).containsExactly(b, n, d);
      assertThat(fused.equal(modulateComposite(x, shift, scale))).isTrue();
    }
  }

  @Property(tries = 80)
  void rotaryEmbeddingEqualsTheCompositeBitForBit(
      @ForAll @IntRange(min = 1, max = 2) int b,
      @ForAll @IntRange(min = 1, max = 4) int heads,
      @ForAll @IntRange(min = 1, max = 12) int n,
      @ForAll @IntRange(min = 1, max = 40) int pairs,
      @ForAll boolean tokenizerTable,
      @ForAll long seed) {
    int dh = 2 * pairs;
    try (Scope s = Scope.open();
        GradMode g = GradMode.inferenceMode();
        TorchGenerator gen = TorchGenerator.cpu(seed)) {
      // q as a strided view of a (B, N, 3, H, Dh) qkv projection, permuted to (B, H, N, Dh)
      Tensor q = Tensor.randn(gen, b, n, 3, heads, dh).permute(2, 0, 3, 1, 4).select(0, 0);
      Tensor cos;
      Tensor sin;
      if (tokenizerTable) {
        // the tokenizer's (1, N, 2 Dh) [cos | sin] table: unsqueezed, then halves (row stride 2 Dh)
        Tensor rope = Tensor.randn(gen, 1, n, 2L * dh).unsqueeze(1);
        cos = rope.narrow(3, 0, dh);
        sin = rope.narrow(3, dh, dh);
      } else {
        // DiT's (N, Dh) buffers, broadcast over batch and heads
        cos = Tensor.randn(gen, n, dh);
        sin = Tensor.randn(gen, n, dh);
      }
      long calls = Torch.fusedKernelCalls();
      Tensor fused = F.applyRotaryEmb(q, cos, sin);
      assertThat(Torch.fusedKernelCalls()).as("the fused kernel ran").isGreaterThan(calls);
      assertThat(fused.shape()).containsExactly(b, heads, n, dh);
      assertThat(fused.stride()).containsExactly((long) heads * n * dh, (long) n * dh, dh, 1);
      assertThat(fused.equal(rotaryComposite(q, cos, sin))).isTrue();
    }
  }

  @Property(tries = 60)
  void rmsNormIsWithin1e6OfFloat64(
      @ForAll @IntRange(min = 1, max = 7) int rows,
      @ForAll @IntRange(min = 1, max = 300) int d,
      @ForAll @IntRange(min = -3, max = 3) int magnitude,
      @ForAll long seed) {
    try (Scope s = Scope.open();
        GradMode g = GradMode.inferenceMode();
        TorchGenerator gen = TorchGenerator.cpu(seed)) {
      Tensor x = Tensor.randn(gen, rows, d).mul(Math.pow(10, magnitude));
      Tensor w = Tensor.randn(gen, d);
      long calls = Torch.fusedKernelCalls();
      Tensor fused = F.rmsNorm(x, new long[] {d}, w, 1e-6);
      assertThat(Torch.fusedKernelCalls()).as("the fused kernel ran").isGreaterThan(calls);
      Tensor truth = rmsNormComposite(x.to(DType.FLOAT64), w.to(DType.FLOAT64), 1e-6);
      double scale = truth.abs().max().item();
      double fusedErr = fused.to(DType.FLOAT64).sub(truth).abs().max().item();
      double compositeErr =
          rmsNormComposite(x, w, 1e-6).to(DType.FLOAT64).sub(truth).abs().max().item();
      assertThat(fusedErr).isLessThanOrEqualTo(1e-6 * scale);
      // as accurate as the float32 composite, up to a couple of roundings either way
      assertThat(fusedErr).isLessThanOrEqualTo(4 * compositeErr + 3e-7 * scale);
    }
  }

  @Property(tries = 40)
  void addcmulIsTheGatedResidualToAnUlp(
      @ForAll @IntRange(min = 1, max = 3) int b,
      @ForAll @IntRange(min = 1, max = 9) int n,
      @ForAll @IntRange(min = 1, max = 50) int d,
      @ForAll long seed) {
    try (Scope s = Scope.open();
        GradMode g = GradMode.inferenceMode();
        TorchGenerator gen = TorchGenerator.cpu(seed)) {
      Tensor x = Tensor.randn(gen, b, n, d);
      Tensor y = Tensor.randn(gen, b, n, d);
      Tensor gate = Tensor.randn(gen, b, 1, d);
      // ATen's addcmul may contract to one FMA (one rounding instead of two): at most an ulp apart
      Tensor composite = x.add(gate.mul(y));
      double bound = x.abs().add(gate.mul(y).abs()).max().item() * 0x1p-23;
      assertThat(x.addcmul(y, gate, 1.0).sub(composite).abs().max().item())
          .isLessThanOrEqualTo(bound);
    }
  }

  @Example
  void otherDtypesTakeTheCompositePath() {
    try (Scope s = Scope.open();
        GradMode g = GradMode.inferenceMode();
        TorchGenerator gen = TorchGenerator.cpu(3)) {
      Tensor x = Tensor.randn(gen, 2, 5, 8).to(DType.FLOAT64);
      Tensor shift = Tensor.randn(gen, 2, 1, 8).to(DType.FLOAT64);
      Tensor scale = Tensor.randn(gen, 2, 1, 8).to(DType.FLOAT64);
      Tensor cos = Tensor.randn(gen, 5, 8).to(DType.FLOAT64);
      Tensor sin = Tensor.randn(gen, 5, 8).to(DType.FLOAT64);
      long calls = Torch.fusedKernelCalls();
      assertThat(F.modulate(x, shift, scale).dtype()).isEqualTo(DType.FLOAT64);
      assertThat(F.modulate(x, shift, scale).equal(modulateComposite(x, shift, scale))).isTrue();
      assertThat(F.applyRotaryEmb(x, cos, sin).equal(rotaryComposite(x, cos, sin))).isTrue();
      // other tests' threads may run fused kernels meanwhile; this class's tests run one at a time
      assertThat(Torch.fusedKernelCalls()).as("no fused kernel for float64").isEqualTo(calls);
    }
  }

  @Example
  void autogradGoesThroughTheCompositeOps() {
    try (Scope s = Scope.open();
        TorchGenerator gen = TorchGenerator.cpu(5)) {
      Tensor x = Tensor.randn(gen, 2, 3, 6).requiresGrad_(true);
      Tensor shift = Tensor.randn(gen, 2, 1, 6);
      Tensor scale = Tensor.randn(gen, 2, 1, 6);
      F.modulate(x, shift, scale).sum().backward();
      // d/dx sum(x (1 + scale) + shift) = 1 + scale, broadcast over tokens
      assertThat(x.grad().equal(scale.add(1.0).expand(2, 3, 6))).isTrue();

      Tensor q = Tensor.randn(gen, 1, 2, 3, 4).requiresGrad_(true);
      Tensor cos = Tensor.randn(gen, 3, 4);
      Tensor sin = Tensor.randn(gen, 3, 4);
      F.applyRotaryEmb(q, cos, sin).sum().backward();
      // d/dx0 (x0 c0 - x1 s0 + x1 c1 + x0 s1) = c0 + s1; d/dx1 = c1 - s0
      float[] c = cos.toFloatArray();
      float[] sn = sin.toFloatArray();
      float[] grad = q.grad().toFloatArray();
      for (int i = 0; i < grad.length; i++) {
        int t = i % 12;
        float expected = t % 2 == 0 ? c[t] + sn[t + 1] : c[t] - sn[t - 1];
        assertThat(grad[i])
            .as("grad %d", i)
            .isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-6f));
      }

      Tensor r = Tensor.randn(gen, 4, 10).requiresGrad_(true);
      Tensor w = Tensor.ones(10);
      F.rmsNorm(r, new long[] {10}, w, 1e-6).pow(2.0).sum().backward();
      // sum of squares of an RMS-normalised row is d * ms/(ms + eps): nearly flat in x
      assertThat(r.grad().abs().max().item()).isLessThan(1e-3);
    }
  }

  @Example
  void badShapesAreErrorsNotCrashes() {
    try (Scope s = Scope.open();
        GradMode g = GradMode.inferenceMode()) {
      Tensor odd = Tensor.zeros(1, 2, 3, 5);
      Tensor table = Tensor.zeros(3, 5);
      assertThatThrownBy(() -> F.applyRotaryEmb(odd, table, table))
          .isInstanceOf(TorchException.class)
          .hasMessageContaining("even");
      Tensor x = Tensor.zeros(2, 4, 8);
      Tensor wrong = Tensor.zeros(3, 1, 8);
      assertThatThrownBy(() -> F.modulate(x, wrong, wrong))
          .isInstanceOf(TorchException.class)
          .hasMessageContaining("size");
      Tensor cos = Tensor.zeros(5, 8);
      assertThatThrownBy(() -> F.applyRotaryEmb(x.unsqueeze(0), cos, cos))
          .isInstanceOf(TorchException.class);
    }
  }
}
