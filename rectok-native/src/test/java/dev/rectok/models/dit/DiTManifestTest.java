package dev.rectok.models.dit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rectok.models.golden.GoldenCase;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.Parameter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Golden case 6: the released DiT^DH-XL and DiT^DH-S have exactly the manifests' keys, shapes,
 * kinds and parameter counts. The XL (3.3 GB in float32) is checked through {@link
 * DiTConfig#stateDictLayout()}, which the other tests tie to the real module; the S is also built
 * for real.
 */
class DiTManifestTest {
  private static final Path DIR =
      Path.of(System.getProperty("rectok.golden.dir"), "case6_manifests");
  private static final ObjectMapper JSON = new ObjectMapper();

  private static JsonNode read(String file) throws Exception {
    return JSON.readTree(DIR.resolve(file).toFile());
  }

  private static List<Long> shapeOf(JsonNode arr) {
    List<Long> out = new ArrayList<>();
    arr.forEach(v -> out.add(v.asLong()));
    return out;
  }

  /**
   * The layout equals the manifest entry by entry, in order, and its counts equal summary.json's.
   */
  private static void checkLayout(String name) throws Exception {
    JsonNode manifest = read("manifest_" + name + ".json");
    JsonNode summary = read("summary.json").get(name);
    DiTConfig cfg = DiTConfig.preset(name);
    List<DiTConfig.StateEntry> layout = cfg.stateDictLayout();

    List<String> expectedKeys = new ArrayList<>();
    manifest.get("keys").fieldNames().forEachRemaining(expectedKeys::add);
    assertThat(layout.stream().map(DiTConfig.StateEntry::name).toList())
        .containsExactlyElementsOf(expectedKeys);
    for (DiTConfig.StateEntry e : layout) {
      JsonNode m = manifest.get("keys").get(e.name());
      assertThat(e.shape()).as(e.name()).isEqualTo(shapeOf(m.get("shape")));
      assertThat(m.get("dtype").asText()).isEqualTo("float32");
      boolean buffer = e.kind() == DiTConfig.Kind.BUFFER;
      assertThat(m.get("kind").asText()).as(e.name()).isEqualTo(buffer ? "buffer" : "parameter");
      assertThat(m.get("requires_grad").asBoolean())
          .as(e.name())
          .isEqualTo(e.kind() == DiTConfig.Kind.PARAMETER);
      assertThat(m.get("in_model").asBoolean()).isTrue();
      assertThat(m.get("in_model_ema").asBoolean()).as(e.name()).isEqualTo(!buffer);
    }

    long total = cfg.numParameters(false);
    long trainable = cfg.numParameters(true);
    long buffers = layout.stream().filter(e -> e.kind() == DiTConfig.Kind.BUFFER).count();
    assertThat(total).isEqualTo(summary.get("total_params").asLong());
    assertThat(trainable).isEqualTo(summary.get("trainable_params").asLong());
    assertThat(layout).hasSize(summary.get("num_state_dict_keys").asInt());
    assertThat(layout.size() - buffers).isEqualTo(summary.get("num_parameter_keys").asInt());
    assertThat(buffers).isEqualTo(summary.get("num_persistent_buffers").asInt());
    assertThat(blockParams(layout, 0)).isEqualTo(summary.get("encoder_block_params").asLong());
    assertThat(blockParams(layout, cfg.numEncoderBlocks()))
        .isEqualTo(summary.get("head_block_params").asLong());
    List<String> frozen =
        layout.stream()
            .filter(e -> e.kind() == DiTConfig.Kind.FROZEN_PARAMETER)
            .map(DiTConfig.StateEntry::name)
            .toList();
    List<String> expectedFrozen = new ArrayList<>();
    summary.get("frozen_parameters").forEach(v -> expectedFrozen.add(v.asText()));
    assertThat(frozen).containsExactlyElementsOf(expectedFrozen);
    assertThat(cfg.timeDistShift()).isEqualTo(summary.get("time_dist_shift").asDouble());
    System.out.printf(
        "[case6] %s: %d keys, %,d parameters (%,d trainable)%n",
        name, layout.size(), total, trainable);
  }

  private static long blockParams(List<DiTConfig.StateEntry> layout, int block) {
    String prefix = "blocks." + block + ".";
    return layout.stream()
        .filter(e -> e.name().startsWith(prefix))
        .mapToLong(DiTConfig.StateEntry::numel)
        .sum();
  }

  /**
   * The real module's state dict, parameters and freezing agree with the configuration's layout.
   */
  static void assertModuleMatchesLayout(DiTwDDTHead net) {
    List<DiTConfig.StateEntry> layout = net.config().stateDictLayout();
    Map<String, Tensor> state = net.stateDict();
    assertThat(state.keySet())
        .containsExactlyElementsOf(layout.stream().map(DiTConfig.StateEntry::name).toList());
    Map<String, Parameter> params = net.namedParameters();
    for (DiTConfig.StateEntry e : layout) {
      assertThat(state.get(e.name()).shape()).as(e.name()).isEqualTo(e.shapeArray());
      Parameter p = params.get(e.name());
      switch (e.kind()) {
        case BUFFER -> assertThat(p).as(e.name()).isNull();
        case FROZEN_PARAMETER -> assertThat(p.requiresGrad()).as(e.name()).isFalse();
        case PARAMETER -> assertThat(p.requiresGrad()).as(e.name()).isTrue();
      }
    }
    assertThat(net.numParameters(false)).isEqualTo(net.config().numParameters(false));
    assertThat(net.numParameters(true)).isEqualTo(net.config().numParameters(true));
  }

  @Test
  void xlLayoutIsTheManifest() throws Exception {
    checkLayout("DiTDDT_xl");
    assertThat(DiTConfig.preset("DiTDDT_xl").numParameters(false)).isEqualTo(835_316_436L);
  }

  @Test
  void sLayoutIsTheManifest() throws Exception {
    checkLayout("DiTDDT_s");
    assertThat(DiTConfig.preset("DiTDDT_s").numParameters(false)).isEqualTo(193_587_924L);
  }

  @Test
  void theRealSModuleHasTheManifestLayout() {
    try (DiTwDDTHead net = new DiTwDDTHead(DiTConfig.preset("DiTDDT_s"))) {
      assertModuleMatchesLayout(net);
      assertThat(net.numParameters(false)).isEqualTo(193_587_924L);
      assertThat(net.numParameters(true)).isEqualTo(193_489_364L);
    }
  }

  @Test
  void theGoldenCase3ModuleHasItsLayout() throws Exception {
    try (GoldenCase c =
            GoldenCase.open(Path.of(System.getProperty("rectok.golden.dir"), "case3_dit_forward"));
        DiTwDDTHead net = new DiTwDDTHead(DiTConfig.fromConstructorKwargs(c.config()))) {
      assertModuleMatchesLayout(net);
    }
  }

  @Test
  void presetsOfTheReference() {
    DiTConfig b = DiTConfig.preset("DiTDDT_b");
    DiTConfig l = DiTConfig.preset("DiTDDT_l");
    assertThat(List.of(b.hiddenSize(), b.depth(), b.numHeads()))
        .isEqualTo(List.of(List.of(768, 2048), List.of(12, 2), List.of(12, 16)));
    assertThat(List.of(l.hiddenSize(), l.depth(), l.numHeads()))
        .isEqualTo(List.of(List.of(1024, 2048), List.of(24, 2), List.of(16, 16)));
    for (DiTConfig c :
        new DiTConfig[] {b, l, DiTConfig.preset("DiTDDT_s"), DiTConfig.preset("DiTDDT_xl")}) {
      assertThat(
              Arrays.asList(
                  c.tokenChannels(),
                  c.imgSize(),
                  c.tokenizerPatchSize(),
                  c.inputSize(),
                  c.labelTableRows()))
          .isEqualTo(List.of(128, 256, 16, 16, 1001));
    }
  }
}
