package dev.rectok.torch.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.DType;
import dev.rectok.torch.CpuFeatures;
import dev.rectok.torch.F;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.Torch;
import dev.rectok.torch.TorchException;
import dev.rectok.torch.TorchGenerator;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * Linear on weights packed once for oneDNN (issue 13): available where the build and the CPU allow
 * it; for any shape equal to the exact product of the operands rounded to the packed dtype, up to
 * float32 accumulation; {@code prepareReleasing} packs bf16 models, which keep no plain weight and
 * refuse what they can no longer do; bad arguments are errors, not crashes.
 */
class PackedLinearTest {
  /**
   * |actual − x·wᵀ − b| ≤ 1e-5 · (Σ_k |x_k w_k| + 1), with x and w rounded to {@code compute} and
   * the product taken in float64: what float32 accumulation of those operands allows.
   */
  private static void assertPackedProduct(
      Tensor x, Tensor w, Tensor b, DType compute, Tensor actual) {
    try (Scope s = Scope.open()) {
      Tensor x64 = x.to(compute).to(DType.FLOAT64);
      Tensor w64 = w.to(compute).to(DType.FLOAT64);
      Tensor exact = F.linear(x64, w64, b == null ? null : b.to(DType.FLOAT64));
      Tensor scale = F.linear(x64.abs(), w64.abs(), null).add(1.0);
      double worst = actual.to(DType.FLOAT64).sub(exact).abs().div(scale).max().item();
      assertThat(worst).as("error relative to sum |x||w|, %s", compute).isLessThan(1e-5);
    }
  }

  private static boolean available(DType compute) {
    return !Torch.linearPacking(compute).isEmpty();
  }

  @Test
  void availableWhereTheBuildAndTheCpuAllowIt() {
    CpuFeatures cpu = CpuFeatures.detect();
    boolean avx512 =
        cpu.has("avx512f") && cpu.has("avx512bw") && cpu.has("avx512vl") && cpu.has("avx512dq");
    // Debian's LibTorch 1.13 with libdnnl-dev (bin/setup installs it) has the packed path; LibTorch
    // 2.x builds carry their own oneDNN and report it unavailable
    boolean debianTorch = Torch.version().startsWith("1.");
    if (debianTorch && avx512) {
      assertThat(Torch.linearPacking(DType.FLOAT32)).startsWith("brg:");
    }
    if (debianTorch && avx512 && cpu.has("avx512_bf16")) {
      assertThat(Torch.linearPacking(DType.BFLOAT16)).startsWith("brg:");
    }
    if (!avx512) {
      assertThat(Torch.linearPacking(DType.FLOAT32)).isEmpty();
    }
    assertThat(InferencePrecision.packingEnabled(DType.BFLOAT16))
        .isEqualTo(available(DType.BFLOAT16));
    assertThat(InferencePrecision.packingEnabled(DType.FLOAT32))
        .as("float32 weights are never packed (measured not to pay)")
        .isFalse();
    try (Scope s = Scope.open()) {
      assertThatThrownBy(() -> F.linearPackWeight(Tensor.ones(2, 2), DType.FLOAT64))
          .isInstanceOf(TorchException.class);
    }
  }

  @Property(tries = 60)
  void packedEqualsTheRoundedProductForAnyShape(
      @ForAll @IntRange(min = 1, max = 300) int rows,
      @ForAll @IntRange(min = 1, max = 200) int in,
      @ForAll @IntRange(min = 1, max = 200) int out,
      @ForAll @IntRange(min = 1, max = 3) int leading,
      @ForAll boolean withBias,
      @ForAll boolean bf16,
      @ForAll @IntRange(min = 0, max = 1000) int seed) {
    DType compute = bf16 ? DType.BFLOAT16 : DType.FLOAT32;
    if (!available(compute)) {
      try (Scope s = Scope.open()) {
        assertThatThrownBy(() -> F.linearPackWeight(Tensor.zeros(4, 4), compute))
            .isInstanceOf(TorchException.class);
      }
      return;
    }
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(seed);
        GradMode m = GradMode.inferenceMode()) {
      long[] shape =
          switch (leading) {
            case 1 -> new long[] {rows, in};
            case 2 -> new long[] {2, rows, in};
            default -> new long[] {3, 1, rows, in};
          };
      Tensor x = Tensor.randn(g, shape);
      Tensor w = Tensor.randn(g, out, in);
      Tensor b = withBias ? Tensor.randn(g, out) : null;
      Tensor y = F.linearPacked(x, F.linearPackWeight(w, compute), b, out);
      long[] expected = shape.clone();
      expected[expected.length - 1] = out;
      assertThat(y.shape()).containsExactly(expected);
      assertThat(y.dtype()).isEqualTo(DType.FLOAT32);
      assertPackedProduct(x, w, b, compute, y);
    }
  }

  @Test
  void prepareReleasingPacksBf16LayersThatKeepNoPlainWeight() {
    if (!InferencePrecision.packingEnabled(DType.BFLOAT16)) {
      return; // asserted consistent with the build above; nothing packs here
    }
    try (TorchGenerator g = TorchGenerator.cpu(3);
        Sequential net = new Sequential(new Linear(96, 40, true), new Linear(40, 8, false));
        Scope s = Scope.open();
        GradMode m = GradMode.inferenceMode()) {
      Linear first = (Linear) net.children().get("0");
      Tensor w = first.weight().data().clone();
      Tensor b = first.bias().data().clone();
      Tensor x = Tensor.randn(g, 5, 7, 96);
      long n0 = InferencePrecision.lowPrecisionGemms();
      assertThat(InferencePrecision.prepareReleasing(net, DType.BFLOAT16, p -> true)).isEqualTo(2);
      assertThat(first.isPacked()).isTrue();
      assertThat(first.weight().data().numel()).as("plain weight freed").isZero();
      assertThat(first.bias().data().numel()).as("float32 bias kept").isEqualTo(40);
      assertPackedProduct(x, w, b, DType.BFLOAT16, first.forward(x));
      assertThat(net.forward(x).shape()).containsExactly(5, 7, 8);
      assertThat(InferencePrecision.lowPrecisionGemms()).as("bf16 GEMMs counted").isEqualTo(n0 + 3);
      assertThat(InferencePrecision.prepare(net, DType.BFLOAT16)).as("already bf16").isZero();
      assertThatThrownBy(() -> InferencePrecision.release(net))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("can only run in");
    }
  }

  @Test
  void mismatchedArgumentsAreErrorsNotCrashes() {
    if (!available(DType.FLOAT32)) {
      return;
    }
    try (Scope s = Scope.open();
        GradMode m = GradMode.inferenceMode()) {
      Tensor packed = F.linearPackWeight(Tensor.ones(16, 32), DType.FLOAT32);
      assertThatThrownBy(() -> F.linearPacked(Tensor.ones(4, 31), packed, null, 16))
          .isInstanceOf(TorchException.class)
          .hasMessageContaining("in_features");
      assertThatThrownBy(() -> F.linearPacked(Tensor.ones(4, 32), packed, null, 17))
          .isInstanceOf(TorchException.class)
          .hasMessageContaining("out_features");
      assertThatThrownBy(() -> F.linearPacked(Tensor.ones(4, 32), packed, Tensor.ones(15), 16))
          .isInstanceOf(TorchException.class)
          .hasMessageContaining("bias");
      assertThatThrownBy(
              () -> F.linearPacked(Tensor.ones(4, 32).to(DType.FLOAT64), packed, null, 16))
          .isInstanceOf(TorchException.class)
          .hasMessageContaining("float32");
      assertThatThrownBy(() -> F.linearPacked(Tensor.ones(4, 32), Tensor.ones(100), null, 16))
          .isInstanceOf(TorchException.class)
          .hasMessageContaining("packed weight");
      assertThatThrownBy(() -> F.linearPackWeight(Tensor.ones(2, 3, 4), DType.FLOAT32))
          .isInstanceOf(TorchException.class)
          .hasMessageContaining("2-D");
      // still alive and correct afterwards
      assertThat(F.linearPacked(Tensor.ones(2, 32), packed, null, 16).sum().item())
          .isEqualTo(2.0 * 16 * 32);
    }
  }

  @Test
  void switchedOffByTheSystemProperty() {
    try (Linear l = new Linear(8, 8, true)) {
      withoutPacking(
          () -> {
            assertThat(InferencePrecision.packingEnabled(DType.BFLOAT16)).isFalse();
            assertThat(InferencePrecision.prepareReleasing(l, DType.BFLOAT16, p -> true))
                .isEqualTo(1);
          });
      assertThat(l.isPacked()).as("converted, not packed").isFalse();
    }
  }

  /** Runs {@code body} with {@code -Drectok.packWeights=false}, then restores the property. */
  static void withoutPacking(Runnable body) {
    String old = System.getProperty("rectok.packWeights");
    System.setProperty("rectok.packWeights", "false");
    try {
      body.run();
    } finally {
      if (old == null) {
        System.clearProperty("rectok.packWeights");
      } else {
        System.setProperty("rectok.packWeights", old);
      }
    }
  }
}
