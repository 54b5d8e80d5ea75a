package dev.rectok.models;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.models.dit.DiTConfig;
import dev.rectok.models.tokenizer.RecTokConfig;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.io.CheckpointFormatException;
import dev.rectok.torch.io.HostTensor;
import dev.rectok.torch.io.SafeTensors;
import dev.rectok.torch.io.SafeTensorsFile;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The SDK's self-describing model file: a safetensors file whose {@code __metadata__} holds what it
 * is ({@code rectok.kind}: {@code tokenizer}, {@code generator} or {@code teacher}, the demo's
 * feature teacher in rectok-train), its configuration under the reference's argument names ({@code
 * rectok.config}: {@code {"preset": "rectok_BB"}} or {@code {"constructor_kwargs": {...},
 * "size_dict_additions": {...}}}), and for a tokenizer the latent statistics ({@code
 * rectok.latent_mean}, {@code rectok.latent_std}, JSON arrays). One file is a ready-to-use model.
 * Stateless; thread-safe.
 */
public final class ModelFile {
  public static final String KIND = "rectok.kind";
  public static final String CONFIG = "rectok.config";
  public static final String FORMAT = "rectok.format";
  public static final String LATENT_MEAN = "rectok.latent_mean";
  public static final String LATENT_STD = "rectok.latent_std";
  private static final ObjectMapper JSON = new ObjectMapper();

  private ModelFile() {}

  /** What a model file says about itself. */
  public record Header(String kind, JsonNode config, float[] latentMean, float[] latentStd) {
    /** Whether latent statistics are embedded. */
    public boolean hasStatistics() {
      return latentMean != null && latentStd != null;
    }

    /** The tokenizer configuration; an exception naming the kind when it is not a tokenizer. */
    public RecTokConfig tokenizerConfig() throws CheckpointFormatException {
      require("tokenizer");
      return ModelFile.tokenizerConfig(config);
    }

    /** The generator configuration; an exception naming the kind when it is not a generator. */
    public DiTConfig generatorConfig() throws CheckpointFormatException {
      require("generator");
      return ModelFile.generatorConfig(config);
    }

    private void require(String expected) throws CheckpointFormatException {
      if (!expected.equals(kind)) {
        throw new CheckpointFormatException(
            "this model file holds a " + kind + ", not a " + expected);
      }
    }
  }

  /**
   * A tokenizer configuration from a model file's config object: {@code {"preset": name}} or the
   * reference's constructor arguments. The one place that tells the two forms apart.
   */
  public static RecTokConfig tokenizerConfig(JsonNode config) {
    return config.has("preset")
        ? RecTokConfig.preset(config.get("preset").asText())
        : RecTokConfig.fromGoldenConfig(config);
  }

  /**
   * A generator configuration from a model file's config object: {@code {"preset": name}} or the
   * reference's constructor arguments. The one place that tells the two forms apart.
   */
  public static DiTConfig generatorConfig(JsonNode config) {
    return config.has("preset")
        ? DiTConfig.preset(config.get("preset").asText())
        : DiTConfig.fromConstructorKwargs(config);
  }

  /** A preset configuration by its reference name. */
  public static JsonNode presetConfig(String name) {
    return JSON.createObjectNode().put("preset", name);
  }

  /**
   * Writes {@code weights} (borrowed) with the metadata, atomically.
   *
   * @param latentMean per-channel means or null; with {@code latentStd}
   */
  public static void write(
      Path file,
      String kind,
      JsonNode config,
      Map<String, Tensor> weights,
      float[] latentMean,
      float[] latentStd)
      throws IOException {
    if (!kind.equals("tokenizer") && !kind.equals("generator") && !kind.equals("teacher")) {
      throw new IllegalArgumentException(
          "kind must be tokenizer, generator or teacher, got " + kind);
    }
    if ((latentMean == null) != (latentStd == null)
        || (latentMean != null && latentMean.length != latentStd.length)) {
      throw new IllegalArgumentException(
          "latent mean and std must both be given, with the same length");
    }
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put(FORMAT, "1");
    meta.put(KIND, kind);
    meta.put(CONFIG, JSON.writeValueAsString(config));
    if (latentMean != null) {
      meta.put(LATENT_MEAN, JSON.writeValueAsString(latentMean));
      meta.put(LATENT_STD, JSON.writeValueAsString(latentStd));
    }
    try (Arena arena = Arena.ofConfined()) {
      Map<String, HostTensor> host = new LinkedHashMap<>();
      weights.forEach((k, v) -> host.put(k, v.toHost(arena)));
      SafeTensors.write(file, host, meta);
    }
  }

  /** Reads the header of an open file; a file without our metadata is refused with the reason. */
  public static Header header(SafeTensorsFile f) throws CheckpointFormatException {
    Map<String, String> m = f.metadata();
    String kind = m.get(KIND);
    if (kind == null || !m.containsKey(CONFIG)) {
      throw new CheckpointFormatException(
          f.path()
              + " is a plain safetensors file, not a RecTok model file "
              + "(no rectok.kind / rectok.config metadata): create one with 'rectok convert'");
    }
    try {
      JsonNode config = JSON.readTree(m.get(CONFIG));
      float[] mean =
          m.containsKey(LATENT_MEAN) ? JSON.readValue(m.get(LATENT_MEAN), float[].class) : null;
      float[] std =
          m.containsKey(LATENT_STD) ? JSON.readValue(m.get(LATENT_STD), float[].class) : null;
      if ((mean == null) != (std == null) || (mean != null && mean.length != std.length)) {
        throw new CheckpointFormatException(
            f.path() + ": latent mean and std are incomplete or differ in length");
      }
      // --- issue 10: non-finite values stopped at the door ---
      if (mean != null) {
        checkStatistics(f.path(), mean, std);
      }
      dev.rectok.torch.io.FiniteValues.requireFinite(f);
      return new Header(kind, config, mean, std);
    } catch (IOException e) {
      throw new CheckpointFormatException(
          f.path() + ": malformed RecTok metadata: " + e.getMessage(), e);
    }
  }

  // A zero or non-finite std divides latents into infinities; a non-finite mean poisons them all.
  private static void checkStatistics(java.nio.file.Path file, float[] mean, float[] std)
      throws CheckpointFormatException {
    for (int i = 0; i < mean.length; i++) {
      if (!Float.isFinite(mean[i]) || !Float.isFinite(std[i]) || !(std[i] > 0)) {
        throw new CheckpointFormatException(
            file
                + ": latent statistics of channel "
                + i
                + " are unusable (mean "
                + mean[i]
                + ", std "
                + std[i]
                + "; each std must be finite and > 0): recompute them with 'rectok stats' "
                + "and embed them with 'rectok convert ... --stats STATS --force'");
      }
    }
  }

  /** Opens a model file and reads its header; the caller closes the file. */
  public static SafeTensorsFile open(Path file) throws IOException {
    try {
      return SafeTensors.open(file);
    } catch (CheckpointFormatException e) {
      // issue 15: one plain sentence first (a PNG passed as a model), the parser's detail after it
      throw new CheckpointFormatException(
          file
              + " is not a RecTok model file (a safetensors file written by "
              + "'rectok convert' or a trainer's --export): "
              + e.getMessage(),
          e);
    }
  }

  /**
   * The metadata object of a config for writing (a copy of {@code golden}'s constructor arguments).
   */
  public static JsonNode configFromGolden(JsonNode golden) {
    ObjectNode o = JSON.createObjectNode();
    o.set(
        "constructor_kwargs",
        golden.has("constructor_kwargs") ? golden.get("constructor_kwargs") : golden);
    if (golden.has("size_dict_additions")) {
      o.set("size_dict_additions", golden.get("size_dict_additions"));
    }
    return o;
  }
}
