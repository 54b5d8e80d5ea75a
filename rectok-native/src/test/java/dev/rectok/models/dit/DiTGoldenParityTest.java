package dev.rectok.models.dit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.models.golden.GoldenCase;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.io.HostTensor;
import dev.rectok.torch.io.PthCheckpoint;
import dev.rectok.torch.io.PthReader;
import dev.rectok.torch.io.SafeTensors;
import dev.rectok.torch.io.SafeTensorsFile;
import dev.rectok.torch.nn.LoadReport;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Golden case 3: {@code dit.net(x, t, y)} with {@code model_ema} weights, every output and debug
 * tensor.
 */
class DiTGoldenParityTest {
  private static final double TOL = 1e-4;
  private static GoldenCase golden;

  @BeforeAll
  static void open() throws Exception {
    golden = GoldenCase.open(Path.of(System.getProperty("rectok.golden.dir"), "case3_dit_forward"));
  }

  @AfterAll
  static void close() {
    golden.close();
  }

  /**
   * Runs the net on the injected inputs and compares every output.* and debug.* tensor of the
   * folder.
   */
  private static Map<String, GoldenCase.Comparison> run(DiTwDDTHead net) {
    Map<String, GoldenCase.Comparison> results = new LinkedHashMap<>();
    net.eval();
    try (Scope s = Scope.open();
        GradMode g = GradMode.noGrad()) {
      Tensor x = golden.tensor("input.x");
      Tensor t = golden.tensor("input.t");
      Tensor y = golden.tensor("input.y");
      Tensor v =
          net.forward(
              x,
              t,
              y,
              null,
              (name, value) -> {
                if (golden.has("debug." + name)) {
                  results.put("debug." + name, golden.compare("debug." + name, value));
                }
              });
      results.put("output.velocity", golden.compare("output.velocity", v));
    }
    return results;
  }

  private static void assertAllPass(String label, Map<String, GoldenCase.Comparison> results) {
    List<String> expected = new ArrayList<>();
    for (String n : golden.names()) {
      if (n.startsWith("output.") || n.startsWith("debug.")) {
        expected.add(n);
      }
    }
    // Every reference tensor of the folder must have been produced and compared.
    assertThat(results.keySet())
        .as(label + ": compared tensors")
        .containsExactlyInAnyOrderElementsOf(expected);
    double worst = 0;
    for (GoldenCase.Comparison c : results.values()) {
      System.out.println("[case3 " + label + "] " + c);
      worst = Math.max(worst, c.relError());
    }
    System.out.printf(
        "[case3 %s] max relative error %.3e over %d tensors%n", label, worst, results.size());
    for (GoldenCase.Comparison c : results.values()) {
      assertThat(c.passes(TOL)).as(label + ": " + c).isTrue();
    }
  }

  private static DiTwDDTHead build() {
    return new DiTwDDTHead(DiTConfig.fromConstructorKwargs(golden.config()));
  }

  @Test
  void configMatchesTheFolderArchitecture() {
    DiTConfig c = DiTConfig.fromConstructorKwargs(golden.config());
    var arch = golden.config().get("architecture");
    assertThat(c.inputSize()).isEqualTo(arch.get("input").get(1).asInt());
    assertThat(c.encoderHeadDim()).isEqualTo(arch.get("encoder_head_dim").asInt());
    assertThat(c.decoderHeadDim()).isEqualTo(arch.get("head_head_dim").asInt());
    assertThat(DiTConfig.mlpHiddenSize(c.encoderHiddenSize(), c.mlpRatio(), c.useSwiglu()))
        .isEqualTo(arch.get("encoder_mlp_hidden").asInt());
    assertThat(DiTConfig.mlpHiddenSize(c.decoderHiddenSize(), c.mlpRatio(), c.useSwiglu()))
        .isEqualTo(arch.get("head_mlp_hidden").asInt());
    assertThat(c.labelTableRows()).isEqualTo(arch.get("label_table_rows").asInt());
    assertThat(c.timeDistShift()).isEqualTo(arch.get("time_dist_shift").asDouble());
  }

  @Test
  void pthModelEmaMatchesEveryReferenceTensor() throws Exception {
    try (DiTwDDTHead net = build()) {
      LoadReport summary = DiTCheckpoints.load(net, golden.file("weights.pth"));
      assertThat(summary.entry()).isEqualTo("model_ema");
      assertThat(summary.ignored()).isEmpty();
      assertThat(summary.recomputed()).containsExactlyElementsOf(net.recomputedKeys());
      assertAllPass("pth model_ema", run(net));
    }
  }

  @Test
  void safetensorsMatchesEveryReferenceTensor() throws Exception {
    try (DiTwDDTHead net = build()) {
      LoadReport summary = DiTCheckpoints.load(net, golden.file("weights.safetensors"));
      assertThat(summary.entry()).isEqualTo("<safetensors>");
      assertAllPass("safetensors", run(net));
    }
  }

  @Test
  void loadingModelInsteadOfModelEmaFailsParity() throws Exception {
    try (DiTwDDTHead net = build()) {
      LoadReport summary = DiTCheckpoints.loadPth(net, golden.file("weights.pth"), "model");
      assertThat(summary.entry()).isEqualTo("model");
      GoldenCase.Comparison v = run(net).get("output.velocity");
      System.out.println("[case3 pth model (expected to fail)] " + v);
      // The EMA weights differ by 0.01*N(0,1) per element: far outside the tolerance.
      assertThat(v.relError()).isGreaterThan(100 * TOL);
    }
  }

  @Test
  void recomputedRopeTablesEqualTheBuffersSavedInModel() throws Exception {
    try (DiTwDDTHead net = build();
        PthCheckpoint ckpt = PthReader.read(golden.file("weights.pth"));
        Scope s = Scope.open()) {
      var model = ckpt.tensors("model");
      for (String key : net.recomputedKeys()) {
        GoldenCase.Comparison c =
            GoldenCase.compare(
                key, net.stateDict().get(key), Tensor.fromHost(model.get(key).toHost()));
        System.out.println("[case3 rope] " + c);
        assertThat(c.passes(1e-6)).as(c.toString()).isTrue();
      }
    }
  }

  @Test
  void unknownKeysAreIgnoredAndRopeTablesRecomputedNotLoaded(@TempDir Path tmp) throws Exception {
    Path file = tmp.resolve("with_extras.safetensors");
    try (Arena arena = Arena.ofConfined();
        SafeTensorsFile src = SafeTensors.open(golden.file("weights.safetensors"));
        Scope s = Scope.open()) {
      Map<String, HostTensor> state = new LinkedHashMap<>(src.all());
      // Garbage RoPE tables (as a stale or differently-built checkpoint might carry) and two
      // unknown keys.
      try (DiTwDDTHead shape = build()) {
        for (String key : shape.recomputedKeys()) {
          state.put(key, Tensor.zeros(shape.stateDict().get(key).shape()).toHost(arena));
        }
      }
      state.put("loss_module.weight", Tensor.ones(3).toHost(arena));
      state.put("sampler.grid", Tensor.ones(5).toHost(arena));
      SafeTensors.write(file, state, null);
    }
    try (DiTwDDTHead net = build()) {
      LoadReport summary = DiTCheckpoints.load(net, file);
      assertThat(summary.ignored()).containsExactly("loss_module.weight", "sampler.grid");
      assertThat(summary.loaded()).doesNotContainAnyElementsOf(net.recomputedKeys());
      assertAllPass("safetensors with extras", run(net));
    }
  }

  @Test
  void aMisShapedOrMissingKeyIsAnErrorNamingIt() {
    // One class more than the file: the label table no longer fits.
    DiTConfig wrong =
        DiTConfig.fromConstructorKwargs(golden.config()).toBuilder().numClasses(11).build();
    try (DiTwDDTHead net = new DiTwDDTHead(wrong)) {
      assertThatThrownBy(() -> DiTCheckpoints.load(net, golden.file("weights.safetensors")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("y_embedder.embedding_table.weight")
          .hasMessageContaining("nothing was loaded");
    }
    // An extra s-path block: its keys are missing from the file.
    DiTConfig deeper =
        DiTConfig.fromConstructorKwargs(golden.config()).toBuilder().depth(3, 1).build();
    try (DiTwDDTHead net = new DiTwDDTHead(deeper)) {
      assertThatThrownBy(() -> DiTCheckpoints.load(net, golden.file("weights.pth")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("missing keys")
          .hasMessageContaining("blocks.3.attn.qkv.weight");
    }
  }
}
