package dev.rectok.models.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rectok.torch.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Golden case 6: the released {@code rectok_BB} layouts (generator side, {@code RecTok_decft.pth};
 * stage 1 with the semantic decoder, {@code RecTok.pth}) key for key, shape for shape, in order.
 */
class PresetManifestTest {
  private static final Path DIR =
      Path.of(System.getProperty("rectok.golden.dir")).resolve("case6_manifests");

  static JsonNode json(String name) throws IOException {
    return new ObjectMapper().readTree(DIR.resolve(name).toFile());
  }

  static void assertLayout(RecTok tok, JsonNode manifest) {
    Map<String, List<Long>> expected = new LinkedHashMap<>();
    manifest
        .path("keys")
        .properties()
        .forEach(
            e -> {
              List<Long> shape = new ArrayList<>();
              e.getValue().path("shape").forEach(v -> shape.add(v.asLong()));
              expected.put(e.getKey(), shape);
            });
    Map<String, List<Long>> got = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : tok.stateDict().entrySet()) {
      List<Long> shape = new ArrayList<>();
      for (long d : e.getValue().shape()) {
        shape.add(d);
      }
      got.put(e.getKey(), shape);
    }
    assertThat(got.keySet()).containsExactlyElementsOf(expected.keySet());
    assertThat(got).isEqualTo(expected);
    assertThat(tok.stateDict()).hasSize(manifest.path("num_state_dict_keys").asInt());
    assertThat(tok.numParameters(false)).isEqualTo(manifest.path("total_params").asLong());
    List<String> buffers = new ArrayList<>();
    manifest.path("non_persistent_buffers").forEach(b -> buffers.add(b.path("name").asText()));
    assertThat(tok.namedBuffers().keySet()).containsExactlyInAnyOrderElementsOf(buffers);
    for (JsonNode b : manifest.path("non_persistent_buffers")) {
      List<Long> shape = new ArrayList<>();
      b.path("shape").forEach(v -> shape.add(v.asLong()));
      assertThat(tok.namedBuffers().get(b.path("name").asText()).shape())
          .containsExactly(shape.stream().mapToLong(Long::longValue).toArray());
    }
  }

  @Test
  void rectokBBDecftHasTheReleasedLayout() throws IOException {
    JsonNode summary = json("summary.json").path("rectok_BB_decft");
    try (RecTok tok = new RecTok(RecTokConfig.preset("rectok_BB"))) {
      assertLayout(tok, json("manifest_rectok_BB_decft.json"));
      assertThat(tok.numParameters(false))
          .isEqualTo(171_970_900L)
          .isEqualTo(summary.path("total_params").asLong());
      assertThat(tok.encoder().numParameters(false))
          .isEqualTo(summary.path("encoder_params").asLong());
      assertThat(tok.decoderModule().numParameters(false))
          .isEqualTo(summary.path("decoder_params").asLong());
      assertThat(tok.semanticDecoder()).isNull();
    }
  }

  @Test
  void rectokBBStage1AddsTheSemanticDecoder() throws IOException {
    JsonNode summary = json("summary.json").path("rectok_BB_stage1");
    try (RecTok tok = new RecTok(RecTokConfig.preset("rectok_BB_stage1"))) {
      assertLayout(tok, json("manifest_rectok_BB_stage1.json"));
      assertThat(tok.semanticDecoder().numParameters(false))
          .isEqualTo(summary.path("semantic_decoder_params").asLong())
          .isEqualTo(1_606_336L);
      assertThat(tok.numParameters(false) - tok.semanticDecoder().numParameters(false))
          .isEqualTo(171_970_900L);
    }
  }
}
