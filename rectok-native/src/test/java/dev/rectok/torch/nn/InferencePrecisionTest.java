package dev.rectok.torch.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.api.Precision;
import dev.rectok.torch.CpuFeatures;
import dev.rectok.torch.F;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import java.util.concurrent.CompletableFuture;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * The precision policy of issue 13: resolution, the bf16 path when asked, float32 untouched
 * otherwise.
 */
class InferencePrecisionTest {
  private static final CpuFeatures AVX512_BF16 =
      CpuFeatures.of("avx2", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_bf16");
  private static final CpuFeatures AMX = CpuFeatures.of("amx_bf16", "amx_tile");
  private static final CpuFeatures AVX2_ONLY = CpuFeatures.of("avx2", "fma", "f16c");
  // avx512_bf16 without the BW/VL/DQ subsets oneDNN's bf16 matmul checks for
  private static final CpuFeatures HALF_AVX512 = CpuFeatures.of("avx512f", "avx512_bf16");

  @Test
  void fp32IsAlwaysFloat32() {
    for (CpuFeatures c : new CpuFeatures[] {AVX512_BF16, AMX, AVX2_ONLY}) {
      assertThat(InferencePrecision.resolve(Precision.FP32, Device.CPU, c))
          .isEqualTo(DType.FLOAT32);
    }
    assertThat(InferencePrecision.resolve(Precision.FP32, Device.cuda(0), AVX2_ONLY))
        .isEqualTo(DType.FLOAT32);
  }

  @Test
  void autoPicksBf16OnlyWithNativeBf16OrCuda() {
    assertThat(InferencePrecision.resolve(Precision.AUTO, Device.CPU, AVX512_BF16))
        .isEqualTo(DType.BFLOAT16);
    assertThat(InferencePrecision.resolve(Precision.AUTO, Device.CPU, AMX))
        .isEqualTo(DType.BFLOAT16);
    assertThat(InferencePrecision.resolve(Precision.AUTO, Device.CPU, AVX2_ONLY))
        .isEqualTo(DType.FLOAT32);
    assertThat(InferencePrecision.resolve(Precision.AUTO, Device.CPU, HALF_AVX512))
        .isEqualTo(DType.FLOAT32);
    assertThat(InferencePrecision.resolve(Precision.AUTO, Device.cuda(0), AVX2_ONLY))
        .isEqualTo(DType.BFLOAT16);
  }

  @Test
  void bf16IsRefusedWithAReasonOnACpuWithoutIt() {
    assertThatThrownBy(() -> InferencePrecision.resolve(Precision.BF16, Device.CPU, AVX2_ONLY))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("avx512_bf16")
        .hasMessageContaining("amx_bf16")
        .hasMessageContaining("fp32 or auto")
        .hasMessageContaining("simulated");
    assertThat(InferencePrecision.resolve(Precision.BF16, Device.CPU, AVX512_BF16))
        .isEqualTo(DType.BFLOAT16);
    assertThat(InferencePrecision.resolve(Precision.BF16, Device.cuda(0), AVX2_ONLY))
        .isEqualTo(DType.BFLOAT16);
  }

  @Test
  void theProbeOverrideSimulatesAnotherCpu() {
    String old = System.getProperty("rectok.cpuFlags");
    try {
      System.setProperty("rectok.cpuFlags", "avx2,fma");
      assertThat(CpuFeatures.detect().hasNativeBf16()).isFalse();
      assertThatThrownBy(() -> InferencePrecision.resolve(Precision.BF16, Device.CPU))
          .hasMessageContaining("RECTOK_CPU_FLAGS");
      System.setProperty("rectok.cpuFlags", "avx512bw avx512vl avx512dq avx512_bf16");
      assertThat(InferencePrecision.resolve(Precision.BF16, Device.CPU)).isEqualTo(DType.BFLOAT16);
    } finally {
      if (old == null) {
        System.clearProperty("rectok.cpuFlags");
      } else {
        System.setProperty("rectok.cpuFlags", old);
      }
    }
  }

  @Test
  void parseAcceptsTheCliNamesAndNamesTheAllowedValues() {
    assertThat(Precision.parse("bf16")).isEqualTo(Precision.BF16);
    assertThat(Precision.parse("FP32")).isEqualTo(Precision.FP32);
    assertThat(Precision.parse("auto")).isEqualTo(Precision.AUTO);
    assertThatThrownBy(() -> Precision.parse("fp16")).hasMessageContaining("fp32, bf16 or auto");
  }

  @Property(tries = 20)
  void aPreparedLinearRunsInBf16OnlyUnderTheGuard(
      @ForAll @IntRange(min = 8, max = 40) int rows,
      @ForAll @IntRange(min = 1, max = 70) int in,
      @ForAll @IntRange(min = 1, max = 50) int out,
      @ForAll boolean bias) {
    try (Linear lin = new Linear(in, out, bias);
        Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(rows);
        GradMode m = GradMode.inferenceMode()) {
      lin.resetParameters(g);
      Tensor x = Tensor.randn(g, 2, rows, in);
      Tensor before = lin.forward(x);
      assertThat(InferencePrecision.prepare(lin, DType.BFLOAT16)).isEqualTo(1);
      assertThat(InferencePrecision.prepare(lin, DType.BFLOAT16)).as("converted once").isZero();
      // prepared, but no guard: today's float32 numbers, bit for bit, and no bf16 GEMM
      long n0 = InferencePrecision.lowPrecisionGemms();
      assertThat(exactlyEqual(lin.forward(x), before)).isTrue();
      assertThat(InferencePrecision.lowPrecisionGemms()).isEqualTo(n0);
      Tensor low;
      try (InferencePrecision.Guard p = InferencePrecision.use(DType.BFLOAT16)) {
        low = lin.forward(x);
      }
      assertThat(InferencePrecision.lowPrecisionGemms()).isGreaterThan(n0);
      assertThat(low.dtype()).as("the residual stream stays float32").isEqualTo(DType.FLOAT32);
      // the bf16 GEMM on the same inputs, computed directly
      Tensor expected =
          F.linear(
                  x.to(DType.BFLOAT16),
                  lin.weight().data().to(DType.BFLOAT16),
                  bias ? lin.bias().data().to(DType.BFLOAT16) : null)
              .to(DType.FLOAT32);
      assertThat(exactlyEqual(low, expected)).isTrue();
      // and within bf16's precision of float32: 8 bits of mantissa, sums of up to 70 terms
      assertThat(relError(low, before)).isLessThan(2e-2);
    }
  }

  @Test
  void matrixVectorCallsStayOnTheFloat32Weights() {
    try (Linear lin = new Linear(32, 48, true);
        Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(4);
        GradMode m = GradMode.inferenceMode()) {
      lin.resetParameters(g);
      InferencePrecision.prepare(lin, DType.BFLOAT16);
      Tensor gemv = Tensor.randn(g, 3, 1, 32); // 3 rows: the per-sample adaLN shape
      Tensor gemm = Tensor.randn(g, 2, 8, 32); // 16 rows
      Tensor fp32 = lin.forward(gemv);
      long n0 = InferencePrecision.lowPrecisionGemms();
      try (InferencePrecision.Guard p = InferencePrecision.use(DType.BFLOAT16)) {
        assertThat(exactlyEqual(lin.forward(gemv), fp32)).isTrue();
        assertThat(InferencePrecision.lowPrecisionGemms()).isEqualTo(n0);
        lin.forward(gemm);
        assertThat(InferencePrecision.lowPrecisionGemms()).isEqualTo(n0 + 1);
      }
    }
  }

  @Test
  void releasingFloat32FreesTheWeightsAndKeepsTheBf16Results() {
    try (Linear lin = new Linear(24, 40, true);
        Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(6);
        GradMode m = GradMode.inferenceMode()) {
      lin.resetParameters(g);
      assertThat(InferencePrecision.releaseFloat32(lin))
          .as("nothing prepared, nothing released")
          .isZero();
      InferencePrecision.prepare(lin, DType.BFLOAT16);
      Tensor x = Tensor.randn(g, 20, 24);
      Tensor bf16;
      try (InferencePrecision.Guard p = InferencePrecision.use(DType.BFLOAT16)) {
        bf16 = lin.forward(x);
      }
      assertThat(InferencePrecision.releaseFloat32(lin)).isEqualTo(1);
      assertThat(InferencePrecision.releaseFloat32(lin)).isZero();
      assertThat(lin.weight().numel()).isZero();
      assertThat(lin.bias().numel()).isZero();
      // a bf16-only Linear: bf16 whatever the guard, and at any row count
      assertThat(exactlyEqual(lin.forward(x), bf16)).isTrue();
      Tensor row = x.narrow(0, 0, 1);
      assertThat(exactlyEqual(lin.forward(row), bf16.narrow(0, 0, 1))).isTrue();
      assertThatThrownBy(() -> InferencePrecision.release(lin))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("released");
    }
  }

  @Test
  void theOnePassFormEqualsPrepareThenRelease() {
    try (Linear a = new Linear(24, 40, true);
        Linear b = new Linear(24, 40, true);
        Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(7)) {
      a.resetParameters(g);
      b.weight().copyFrom(a.weight().data());
      b.bias().copyFrom(a.bias().data());
      Tensor x = Tensor.randn(g, 20, 24);
      InferencePrecision.prepare(a, DType.BFLOAT16);
      InferencePrecision.releaseFloat32(a);
      // bit for bit with the converted (not packed) copies; packing is PackedLinearTest's
      PackedLinearTest.withoutPacking(
          () ->
              assertThat(InferencePrecision.prepareReleasing(b, DType.BFLOAT16, path -> true))
                  .isEqualTo(1));
      assertThat(b.weight().numel()).isZero();
      assertThat(exactlyEqual(b.forward(x), a.forward(x))).isTrue();
    }
  }

  @Test
  void anUnpreparedModuleStaysFloat32InsideTheGuard() {
    try (Linear lin = new Linear(16, 8, true);
        Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(3)) {
      lin.resetParameters(g);
      Tensor x = Tensor.randn(g, 4, 16);
      Tensor fp32 = lin.forward(x);
      long n0 = InferencePrecision.lowPrecisionGemms();
      try (InferencePrecision.Guard p = InferencePrecision.use(DType.BFLOAT16)) {
        assertThat(exactlyEqual(lin.forward(x), fp32)).isTrue();
      }
      assertThat(InferencePrecision.lowPrecisionGemms()).isEqualTo(n0);
    }
  }

  @Test
  void releaseDropsTheCopiesAndSelectivePreparationSkipsPaths() {
    try (Sequential seq = new Sequential(new Linear(4, 4, true), new Linear(4, 4, true));
        Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(5)) {
      seq.get(0).resetParameters(g);
      seq.get(1).resetParameters(g);
      assertThat(InferencePrecision.prepare(seq, DType.BFLOAT16, path -> !path.equals("1")))
          .isEqualTo(1);
      Tensor x = Tensor.randn(g, 16, 4);
      long n0 = InferencePrecision.lowPrecisionGemms();
      try (InferencePrecision.Guard p = InferencePrecision.use(DType.BFLOAT16)) {
        seq.forward(x);
      }
      assertThat(InferencePrecision.lowPrecisionGemms() - n0)
          .as("only Linear 0 was converted")
          .isEqualTo(1);
      InferencePrecision.release(seq);
      long n1 = InferencePrecision.lowPrecisionGemms();
      try (InferencePrecision.Guard p = InferencePrecision.use(DType.BFLOAT16)) {
        seq.forward(x);
      }
      assertThat(InferencePrecision.lowPrecisionGemms()).isEqualTo(n1);
    }
  }

  @Property(tries = 15)
  void bf16AttentionKeepsFloat32StatisticsAndStaysCloseToFloat32(
      @ForAll @IntRange(min = 1, max = 3) int heads,
      @ForAll @IntRange(min = 1, max = 40) int n,
      @ForAll @IntRange(min = 1, max = 5) int dimEighths) {
    int d = dimEighths * 8;
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(n)) {
      Tensor q = Tensor.randn(g, 2, heads, n, d);
      Tensor k = Tensor.randn(g, 2, heads, n, d);
      Tensor v = Tensor.randn(g, 2, heads, n, d);
      double scale = 1.0 / Math.sqrt(d);
      Tensor fp32 = F.scaledDotProductAttention(q, k, v, null, 0.0, false, scale);
      assertThat(exactlyEqual(InferencePrecision.attention(q, k, v, scale), fp32))
          .as("outside a guard: untouched")
          .isTrue();
      long n0 = InferencePrecision.lowPrecisionGemms();
      Tensor low;
      try (InferencePrecision.Guard p = InferencePrecision.use(DType.BFLOAT16)) {
        low = InferencePrecision.attention(q, k, v, scale);
      }
      assertThat(InferencePrecision.lowPrecisionGemms() - n0).isEqualTo(2);
      assertThat(low.dtype()).isEqualTo(DType.FLOAT32);
      assertThat(low.shape()).containsExactly(fp32.shape());
      assertThat(relError(low, fp32)).isLessThan(3e-2);
    }
  }

  @Test
  void theModeIsPerThreadAndGuardsNest() throws Exception {
    assertThat(InferencePrecision.current()).isEqualTo(DType.FLOAT32);
    try (InferencePrecision.Guard a = InferencePrecision.use(DType.BFLOAT16)) {
      assertThat(CompletableFuture.supplyAsync(InferencePrecision::current).get())
          .isEqualTo(DType.FLOAT32);
      try (InferencePrecision.Guard b = InferencePrecision.use(DType.FLOAT32)) {
        assertThat(InferencePrecision.current()).isEqualTo(DType.FLOAT32);
      }
      assertThat(InferencePrecision.current()).isEqualTo(DType.BFLOAT16);
      Thread other =
          Thread.ofVirtual()
              .unstarted(
                  () -> assertThatThrownBy(a::close).isInstanceOf(IllegalStateException.class));
      other.start();
      other.join();
    }
    assertThat(InferencePrecision.current()).isEqualTo(DType.FLOAT32);
    assertThatThrownBy(() -> InferencePrecision.use(DType.FLOAT16))
        .isInstanceOf(IllegalArgumentException.class);
  }

  static boolean exactlyEqual(Tensor a, Tensor b) {
    return java.util.Arrays.equals(a.shape(), b.shape()) && a.sub(b).abs().max().item() == 0;
  }

  static double relError(Tensor a, Tensor ref) {
    double diff = Math.sqrt(a.sub(ref).pow(2).sum().item());
    return diff / Math.max(Math.sqrt(ref.pow(2).sum().item()), 1e-30);
  }
}
