package dev.rectok.torch.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.Torch;
import dev.rectok.torch.TorchGenerator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModuleTest {

  /** A block shaped like the reference's: norm, attention-like projection, numbered FFN. */
  static final class Block extends UnaryModule {
    final RMSNorm norm1 = registerModule("norm1", new RMSNorm(4, 1e-6));
    final Linear qkv = registerModule("qkv", new Linear(4, 12, true));
    final Sequential ffn =
        registerModule(
            "ffn",
            new Sequential(
                new Linear(4, 8, true), Activation.gelu(false), new Linear(8, 4, false)));

    Block() {
      registerParameter("gamma", Tensor.ones(4));
      registerBuffer("freqs", Tensor.arange(4), false);
      registerBuffer("count", Tensor.zeros(1), true);
    }

    @Override
    public Tensor forward(Tensor x) {
      try (Scope s = Scope.open()) {
        return s.keep(ffn.forward(norm1.forward(x)).add(x));
      }
    }
  }

  static final class Net extends Module {
    final Sequential blocks = registerModule("blocks", new Sequential(new Block(), new Block()));
    final BatchNorm2d bn = registerModule("bn", new BatchNorm2d(3));
  }

  @Test
  void stateDictKeysAreThePyTorchNamesInPyTorchsOrder() {
    try (Net net = new Net()) {
      assertThat(net.stateDict().keySet())
          .containsExactly(
              "blocks.0.gamma",
              "blocks.0.count",
              "blocks.0.norm1.weight",
              "blocks.0.qkv.weight",
              "blocks.0.qkv.bias",
              "blocks.0.ffn.0.weight",
              "blocks.0.ffn.0.bias",
              "blocks.0.ffn.2.weight",
              "blocks.1.gamma",
              "blocks.1.count",
              "blocks.1.norm1.weight",
              "blocks.1.qkv.weight",
              "blocks.1.qkv.bias",
              "blocks.1.ffn.0.weight",
              "blocks.1.ffn.0.bias",
              "blocks.1.ffn.2.weight",
              "bn.weight",
              "bn.bias",
              "bn.running_mean",
              "bn.running_var",
              "bn.num_batches_tracked");
      assertThat(net.namedBuffers())
          .containsKey("blocks.0.freqs"); // non-persistent: buffer, not state
      assertThat(net.namedParameters()).hasSize(2 * 7 + 2);
      long perBlock = 4 + 4 + 4 * 12 + 12 + 4 * 8 + 8 + 8 * 4;
      long expected = 2 * perBlock + 3 + 3;
      assertThat(net.numParameters(false)).isEqualTo(expected);
      net.blocks.get(0).requiresGrad_(false);
      assertThat(net.numParameters(true)).isEqualTo(expected - perBlock);
    }
  }

  @Test
  void loadStateDictCopiesValuesAndReportsKeys() {
    try (Net a = new Net();
        Net b = new Net();
        Scope s = Scope.open()) {
      Map<String, Tensor> state = new LinkedHashMap<>(a.stateDict());
      assertThat(b.loadStateDict(state, true).isClean()).isTrue();
      for (var e : a.stateDict().entrySet()) {
        assertThat(b.stateDict().get(e.getKey()).equal(e.getValue())).as(e.getKey()).isTrue();
      }
      state.remove("bn.bias");
      state.put("extra.weight", Tensor.zeros(2));
      LoadReport r = b.loadStateDict(state, false);
      assertThat(r.missing()).containsExactly("bn.bias");
      assertThat(r.ignored()).containsExactly("extra.weight");
      assertThat(r.loaded()).doesNotContain("bn.bias").contains("bn.weight");
      assertThat(r.file()).isNull();
      assertThat(r.entry()).isEqualTo(LoadReport.MEMORY);
      assertThat(r.isClean()).isFalse();
      assertThatThrownBy(() -> b.loadStateDict(state, true))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("bn.bias")
          .hasMessageContaining("extra.weight");
    }
  }

  @Test
  void aShapeMismatchNamesTheKeyAndChangesNothing() {
    try (Net a = new Net();
        Scope s = Scope.open()) {
      Map<String, Tensor> state = new LinkedHashMap<>();
      a.stateDict().forEach((k, v) -> state.put(k, Tensor.ones(v.shape(), v.dtype(), Device.CPU)));
      state.put("blocks.1.qkv.weight", Tensor.ones(12, 5));
      double before = a.blocks.get(0).parameter("gamma").data().sum().item();
      Tensor w0 = a.stateDict().get("blocks.0.qkv.weight").clone();
      assertThatThrownBy(() -> a.loadStateDict(state, false))
          .hasMessageContaining("blocks.1.qkv.weight")
          .hasMessageContaining("[12, 5]")
          .hasMessageContaining("nothing was loaded");
      assertThat(a.stateDict().get("blocks.0.qkv.weight").equal(w0)).isTrue();
      assertThat(a.blocks.get(0).parameter("gamma").data().sum().item()).isEqualTo(before);
    }
  }

  @Test
  void trainAndEvalAreRecursiveAndBatchNormUpdatesRunningStats() {
    try (Net net = new Net();
        Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(1)) {
      assertThat(net.bn.isTraining()).isTrue();
      Tensor x = Tensor.randn(g, 4, 3, 2, 2).mul(2).add(1);
      net.bn.forward(x);
      assertThat(net.bn.buffer("num_batches_tracked").itemLong()).isEqualTo(1);
      double[] rm = net.bn.buffer("running_mean").toDoubleArray();
      double[] mean = x.mean(new long[] {0, 2, 3}, false).toDoubleArray();
      for (int c = 0; c < 3; c++) {
        assertThat(rm[c]).isCloseTo(0.1 * mean[c], within(1e-5));
      }
      net.eval();
      assertThat(net.bn.isTraining()).isFalse();
      assertThat(net.blocks.get(1).isTraining()).isFalse();
      Tensor before = net.bn.buffer("running_mean").clone();
      net.bn.forward(x);
      assertThat(net.bn.buffer("running_mean").equal(before)).isTrue();
    }
  }

  @Test
  void linearDefaultInitIsUniformWithinOneOverSqrtFanInAndSeedable() {
    Torch.manualSeed(7);
    try (Linear a = new Linear(64, 32, true)) {
      Torch.manualSeed(7);
      try (Linear b = new Linear(64, 32, true);
          Scope s = Scope.open()) {
        assertThat(a.weight().data().equal(b.weight().data())).isTrue();
        double bound = 1 / Math.sqrt(64);
        assertThat(a.weight().data().abs().max().item())
            .isLessThanOrEqualTo(bound)
            .isGreaterThan(0.9 * bound);
        assertThat(a.bias().data().abs().max().item()).isLessThanOrEqualTo(bound);
        // U(-b, b) has variance b^2/3
        assertThat(a.weight().data().var(new long[0], 1, false).item())
            .isCloseTo(bound * bound / 3, within(bound * bound / 3 * 0.1));
      }
    }
  }

  @Test
  void truncNormalStaysInBoundsWithTheTruncatedMoments() {
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(3)) {
      Tensor t = Tensor.zeros(new long[] {200_000}, DType.FLOAT64, Device.CPU);
      Init.truncNormal_(t, 0, 1, -2, 2, g);
      assertThat(t.min().item()).isGreaterThanOrEqualTo(-2);
      assertThat(t.max().item()).isLessThanOrEqualTo(2);
      assertThat(t.mean().item()).isCloseTo(0, within(0.01));
      // variance of N(0,1) truncated to [-2, 2]: 1 - 2*2*phi(2)/(Phi(2)-Phi(-2)) = 0.7737413
      assertThat(t.var(new long[0], 1, false).item()).isCloseTo(0.7737413, within(0.01));
    }
  }

  @Test
  void erfIsAccurate() {
    assertThat(Init.erf(0.5)).isCloseTo(0.5204998778130465, within(1e-15));
    assertThat(Init.erf(1)).isCloseTo(0.8427007929497149, within(1e-15));
    assertThat(Init.erf(-2)).isCloseTo(-0.9953222650189527, within(1e-14));
    assertThat(Init.erf(3)).isCloseTo(0.9999779095030014, within(1e-15));
    assertThat(Init.erf(6)).isCloseTo(1.0, within(1e-15));
  }

  @Test
  void xavierUniformBound() {
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(5)) {
      Tensor w = Tensor.zeros(30, 50);
      Init.xavierUniform_(w, 1.0, g);
      double a = Math.sqrt(6.0 / 80);
      assertThat(w.abs().max().item()).isLessThanOrEqualTo(a).isGreaterThan(0.95 * a);
    }
  }

  @Test
  void moduleToConvertsParametersAndFloatBuffers() {
    try (Net net = new Net();
        Scope s = Scope.open()) {
      net.to(DType.FLOAT64, Device.CPU);
      assertThat(net.blocks.get(0).parameter("gamma").data().dtype()).isEqualTo(DType.FLOAT64);
      assertThat(net.bn.buffer("running_var").dtype()).isEqualTo(DType.FLOAT64);
      assertThat(net.bn.buffer("num_batches_tracked").dtype()).isEqualTo(DType.INT64);
      assertThat(net.blocks.get(0).parameter("gamma").data().requiresGrad()).isTrue();
      Tensor y = net.blocks.forward(Tensor.ones(new long[] {2, 4}, DType.FLOAT64, Device.CPU));
      assertThat(y.shape()).containsExactly(2, 4);
    }
  }

  @Test
  void closingAModuleFreesEverything() {
    long before = Tensor.liveHandles();
    Net net = new Net();
    assertThat(Tensor.liveHandles()).isGreaterThan(before);
    net.close();
    assertThat(Tensor.liveHandles()).isEqualTo(before);
  }
}
