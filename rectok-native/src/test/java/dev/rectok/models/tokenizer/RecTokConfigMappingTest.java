package dev.rectok.models.tokenizer;

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
 * The one Jackson mapping of {@link RecTokConfig}: names, refusals, and the files already written.
 */
class RecTokConfigMappingTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path GOLDEN = Path.of(System.getProperty("rectok.golden.dir"));
  private static final Path SHIPPED =
      Path.of("..", "samples", "models", "fashion-mnist", "tokenizer.safetensors");

  /** The reference constructor's argument names, in its order. */
  private static final List<String> REFERENCE_NAMES =
      List.of(
          "img_size",
          "patch_size",
          "vit_enc_model_size",
          "vit_dec_model_size",
          "encoder_type",
          "vit_sem_model_size",
          "token_channels",
          "foundation_model_type",
          "cls_token_type",
          "diff_cls_token",
          "sem_dec_type",
          "sem_input_type",
          "sem_target",
          "mask_ratio",
          "mask_ratio_min",
          "mask_ratio_type",
          "gamma",
          "noise_schedule",
          "disable_kl",
          "use_qknorm",
          "mean",
          "std",
          "scale_factor");

  private static ObjectNode wrap(JsonNode kwargs) {
    ObjectNode o = JSON.createObjectNode();
    o.set("constructor_kwargs", kwargs);
    return o;
  }

  @Test
  void presetsWriteEveryArgumentInOrderAndReadBack() {
    for (RecTokConfig c : List.of(RecTokConfig.rectokBB(), RecTokConfig.rectokBBStage1())) {
      ObjectNode k = c.toConstructorKwargs();
      List<String> keys = new ArrayList<>();
      k.fieldNames().forEachRemaining(keys::add);
      assertThat(keys).isEqualTo(REFERENCE_NAMES);
      assertThat(RecTokConfig.fromGoldenConfig(wrap(k))).isEqualTo(c);
    }
    assertThat(RecTokConfig.fromGoldenConfig(wrap(JSON.createObjectNode())))
        .isEqualTo(RecTokConfig.builder().build());
  }

  /** The golden configs (written by the reference) read and write back to the same kwargs. */
  @Test
  void goldenConstructorKwargsRoundTrip() throws Exception {
    for (String name :
        new String[] {"case1_tokenizer_inference", "case2_tokenizer_train_forward"}) {
      try (GoldenCase g = GoldenCase.open(GOLDEN.resolve(name))) {
        RecTokConfig c = RecTokConfig.fromGoldenConfig(g.config());
        assertThat(c.toConstructorKwargs())
            .as(name)
            .isEqualTo(g.config().get("constructor_kwargs"));
        assertThat(c.sizeDict()).containsKey("public_enc");
      }
    }
  }

  /**
   * The shipped demo tokenizer, written by the old hand-written writer, still loads, to the same
   * kwargs.
   */
  @Test
  void shippedModelFileStillLoads() throws Exception {
    assertThat(Files.isRegularFile(SHIPPED)).as(SHIPPED + " is part of the repository").isTrue();
    try (SafeTensorsFile f = ModelFile.open(SHIPPED)) {
      ModelFile.Header h = ModelFile.header(f);
      RecTokConfig c = h.tokenizerConfig();
      assertThat(c.tokenChannels()).isEqualTo(32);
      assertThat(c.toConstructorKwargs()).isEqualTo(h.config().get("constructor_kwargs"));
      assertThat(c.encoderSize().width())
          .isEqualTo(h.config().at("/size_dict_additions/fmnist_enc/width").asInt());
    }
  }

  @Test
  void unknownKeysAreRefusedWithTheirPath() throws Exception {
    assertThatThrownBy(
            () ->
                RecTokConfig.fromGoldenConfig(
                    JSON.readTree(
                        "{\"constructor_kwargs\": {\"img_size\": 64, \"tokn_channels\": 8}}")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'constructor_kwargs.tokn_channels'");
    assertThatThrownBy(
            () ->
                RecTokConfig.fromGoldenConfig(
                    JSON.readTree(
                        "{\"constructor_kwargs\": {\"vit_enc_model_size\": \"e\"}, \"size_dict_additions\": "
                            + "{\"e\": {\"width\": 64, \"layer\": 2, \"heads\": 4}}}")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("e.layer'");
    assertThatThrownBy(
            () ->
                RecTokConfig.fromGoldenConfig(
                    JSON.readTree("{\"constructor_kwargs\": {\"size_dict\": {}}}")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'constructor_kwargs.size_dict'");
    assertThatThrownBy(
            () ->
                RecTokConfig.fromGoldenConfig(
                    JSON.readTree("{\"constructor_kwargs\": {\"use_qknorm\": true}}")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("useQknorm=true is not supported");
  }
}
