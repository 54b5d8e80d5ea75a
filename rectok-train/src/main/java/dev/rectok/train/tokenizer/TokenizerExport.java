package dev.rectok.train.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.models.ModelFile;
import dev.rectok.models.tokenizer.RecTok;
import dev.rectok.models.tokenizer.RecTokConfig;
import dev.rectok.torch.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a trained tokenizer as the SDK's self-describing model file ({@link ModelFile}, kind
 * {@code tokenizer}): the inference-side configuration (no semantic decoder, no training-time
 * masking or noise, like {@code rectok_BB}) under {@code constructor_kwargs} plus the {@code
 * size_dict_additions} it needs, and the weights without {@code sem_decoders.*}. Stateless;
 * thread-safe as long as the model is not being trained meanwhile.
 */
public final class TokenizerExport {
  private static final ObjectMapper JSON = new ObjectMapper();

  private TokenizerExport() {}

  /** The inference counterpart of a (stage-1 or stage-2) model config. */
  public static RecTokConfig inferenceConfig(RecTokConfig c) {
    return c.toBuilder()
        .foundationModelType("")
        .foundationHiddenSize(0)
        .maskRatio(0.0)
        .gamma(0.0)
        .build();
  }

  /**
   * The {@code rectok.config} object for {@code c}: {@code constructor_kwargs} under the
   * reference's names and the non-standard sizes it uses as {@code size_dict_additions}; {@link
   * RecTokConfig#fromGoldenConfig} reads it back.
   */
  public static JsonNode modelFileConfig(RecTokConfig c) {
    ObjectNode root = JSON.createObjectNode();
    root.set("constructor_kwargs", c.toConstructorKwargs());
    ObjectNode sizes = root.putObject("size_dict_additions");
    for (String name :
        new String[] {c.vitEncModelSize(), c.vitDecModelSize(), c.vitSemModelSize()}) {
      RecTokConfig.ModelSize s = c.sizeDict().get(name);
      if (s != null && !s.equals(RecTokConfig.SIZE_DICT.get(name))) {
        sizes
            .putObject(name)
            .put("width", s.width())
            .put("layers", s.layers())
            .put("heads", s.heads());
      }
    }
    return root;
  }

  /**
   * Writes {@code model}'s weights (minus {@code sem_decoders.*}) with the inference config.
   *
   * @param latentMean per-channel latent means, or null (then {@code latentStd} must be null)
   * @param latentStd per-channel latent stds, or null
   * @throws IOException if writing fails
   */
  public static void write(Path file, RecTok model, float[] latentMean, float[] latentStd)
      throws IOException {
    if (latentMean != null && latentMean.length != model.config().tokenChannels()) {
      throw new IllegalArgumentException(
          "latent statistics have "
              + latentMean.length
              + " channels, the tokenizer "
              + model.config().tokenChannels());
    }
    Map<String, Tensor> weights = new LinkedHashMap<>();
    model
        .stateDict()
        .forEach(
            (k, v) -> {
              if (!k.startsWith("sem_decoders.")) {
                weights.put(k, v);
              }
            });
    ModelFile.write(
        file,
        "tokenizer",
        modelFileConfig(inferenceConfig(model.config())),
        weights,
        latentMean,
        latentStd);
  }
}
