package dev.rectok.models.dit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.models.ModelFile;
import dev.rectok.models.golden.GoldenCase;
import dev.rectok.torch.io.SafeTensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The one Jackson mapping of {@link DiTConfig}: names, defaults, refusals, and the files already
 * written.
 */
class DiTConfigMappingTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path GOLDEN = Path.of(System.getProperty("rectok.golden.dir"));
  private static final Path SHIPPED = Path.of("..", "samples", "models", "fashion-mnist");

  /** The reference constructor's argument names, in its order. */
  private static final List<String> REFERENCE_NAMES =
      List.of(
          "img_size",
          "patch_size",
          "tokenizer_patch_size",
          "token_channels",
          "hidden_size",
          "depth",
          "num_heads",
          "force_one_d_seq",
          "mlp_ratio",
          "label_dropout_prob",
          "num_classes",
          "use_qknorm",
          "use_swiglu",
          "use_rope",
          "use_rmsnorm",
          "wo_shift",
          "use_pos_embed",
          "sampling_method",
          "num_sampling_steps");

  @Test
  void writesEveryReferenceArgumentInOrderAndReadsItBack() {
    for (String name : new String[] {"DiTDDT_s", "DiTDDT_b", "DiTDDT_l", "DiTDDT_xl"}) {
      DiTConfig c = DiTConfig.preset(name);
      ObjectNode k = c.toConstructorKwargs();
      List<String> keys = new ArrayList<>();
      k.fieldNames().forEachRemaining(keys::add);
      assertThat(keys).as(name).isEqualTo(REFERENCE_NAMES);
      assertThat(k.get("hidden_size").isArray()).isTrue();
      assertThat(DiTConfig.fromConstructorKwargs(k)).as(name).isEqualTo(c);
      assertThat(DiTConfig.fromConstructorKwargs(ModelFile.configFromGolden(k)))
          .as(name)
          .isEqualTo(c);
    }
    DiTConfig odd =
        DiTConfig.preset("DiTDDT_s").toBuilder()
            .mlpRatio(2.5)
            .useSwiglu(false)
            .usePosEmbed(false)
            .useQknorm(true)
            .numSamplingSteps(7)
            .samplingMethod("heun")
            .labelDropoutProb(0)
            .build();
    assertThat(DiTConfig.fromConstructorKwargs(odd.toConstructorKwargs())).isEqualTo(odd);
  }

  @Test
  void missingArgumentsTakeTheReferenceDefaultsAndNumbersStandForPairs() throws Exception {
    assertThat(DiTConfig.fromConstructorKwargs(JSON.createObjectNode()))
        .isEqualTo(DiTConfig.builder().build());
    JsonNode k =
        JSON.readTree(
            "{\"token_channels\": 32, \"hidden_size\": 64, \"depth\": [2, 1], \"num_heads\": 4}");
    DiTConfig c = DiTConfig.fromConstructorKwargs(k);
    assertThat(c)
        .isEqualTo(
            DiTConfig.builder()
                .tokenChannels(32)
                .hiddenSize(64, 64)
                .depth(2, 1)
                .numHeads(4, 4)
                .build());
  }

  @Test
  void anUnknownKeyIsRefusedWithItsPath() throws Exception {
    JsonNode wrapped =
        JSON.readTree("{\"constructor_kwargs\": {\"img_size\": 64, \"hiden_size\": [48, 80]}}");
    assertThatThrownBy(() -> DiTConfig.fromConstructorKwargs(wrapped))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'constructor_kwargs.hiden_size'")
        .hasMessageContaining("hidden_size");
    JsonNode bare = JSON.readTree("{\"learn_sigma\": true}");
    assertThatThrownBy(() -> DiTConfig.fromConstructorKwargs(bare))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'learn_sigma'");
  }

  @Test
  void malformedValuesAndTheRecordsOwnChecksAreReported() throws Exception {
    assertThatThrownBy(
            () -> DiTConfig.fromConstructorKwargs(JSON.readTree("{\"depth\": \"deep\"}")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'depth'");
    assertThatThrownBy(() -> DiTConfig.fromConstructorKwargs(JSON.readTree("{\"patch_size\": 2}")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("patch_size must be [1, 1]");
    assertThatThrownBy(
            () -> DiTConfig.fromConstructorKwargs(JSON.readTree("{\"depth\": [1, 2, 3]}")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("depth must have two entries");
    assertThatThrownBy(() -> DiTConfig.fromConstructorKwargs(JSON.readTree("[1]")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be a JSON object");
  }

  /** The golden configs (written by the reference) read and write back to the same JSON. */
  @Test
  void goldenConstructorKwargsRoundTrip() throws Exception {
    for (String name : new String[] {"case3_dit_forward", "case3b_dit_sampling"}) {
      try (GoldenCase g = GoldenCase.open(GOLDEN.resolve(name))) {
        JsonNode kwargs = g.config().get("constructor_kwargs");
        assertThat(DiTConfig.fromConstructorKwargs(g.config()).toConstructorKwargs())
            .as(name)
            .isEqualTo(kwargs);
        JsonNode guide = g.config().get("guide_constructor_kwargs");
        if (guide != null) {
          assertThat(DiTConfig.fromConstructorKwargs(guide).toConstructorKwargs())
              .as(name)
              .isEqualTo(guide);
        }
      }
    }
  }

  /**
   * The shipped demo generators, written by the old hand-written writer, still load, to the same
   * JSON.
   */
  @Test
  void shippedModelFilesStillLoad() throws Exception {
    for (String file : new String[] {"generator.safetensors", "guide.safetensors"}) {
      Path p = SHIPPED.resolve(file);
      assertThat(Files.isRegularFile(p)).as(p + " is part of the repository").isTrue();
      try (SafeTensorsFile f = ModelFile.open(p)) {
        ModelFile.Header h = ModelFile.header(f);
        DiTConfig c = h.generatorConfig();
        assertThat(c.tokenChannels()).isEqualTo(32);
        assertThat(ModelFile.configFromGolden(c.toConstructorKwargs()))
            .as(file)
            .isEqualTo(h.config());
      }
    }
  }
}
