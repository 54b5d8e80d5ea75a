package dev.rectok.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rectok.models.ModelFile;
import dev.rectok.models.dit.DiTCheckpoints;
import dev.rectok.models.dit.DiTConfig;
import dev.rectok.models.dit.DiTwDDTHead;
import dev.rectok.models.stats.LatentStatistics;
import dev.rectok.models.tokenizer.RecTok;
import dev.rectok.models.tokenizer.RecTokConfig;
import dev.rectok.models.tokenizer.TokenizerCheckpoints;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code rectok convert IN OUT}: an official {@code .pth} (or a plain safetensors state dict) to
 * the SDK's self-describing model file, validated by loading it into the model first.
 */
@Command(
    name = "convert",
    description =
        "Convert a .pth/.safetensors checkpoint into a RecTok model file (config + weights + latent statistics).")
final class ConvertCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Parameters(
      index = "0",
      paramLabel = "IN",
      description = "checkpoint: official .pth (model_ema is used when present) or .safetensors")
  Path in;

  @Parameters(index = "1", paramLabel = "OUT", description = "model file to write (.safetensors)")
  Path out;

  @Option(
      names = "--kind",
      required = true,
      description =
          "tokenizer, generator, teacher (DINOv3, official .pth or transformers model.safetensors) or inception")
  String kind;

  @Option(
      names = "--config",
      description =
          "a preset name (rectok_BB, DiTDDT_xl, DiTDDT_s, dinov3_vitl16, ...) or a JSON file with constructor_kwargs;"
              + " required for tokenizers and generators, inferred from the weights for teachers, unused for inception")
  String config;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--stats",
      description =
          "latent statistics JSON from 'rectok stats' (tokenizers); without it, "
              + "the statistics of an input model file are kept")
  Path stats;

  @Option(
      names = "--no-stats",
      description = "drop the latent statistics an input model file carries")
  boolean noStats;

  @picocli.CommandLine.Mixin ForceOption force;

  private static JsonNode readJson(Path file) throws IOException {
    try {
      JsonNode n = JSON.readTree(file.toFile());
      if (n == null || !n.isObject()) {
        throw new IOException("--config " + file + " is not a JSON object with constructor_kwargs");
      }
      return n;
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      throw new IOException(
          "--config " + file + " is not valid JSON: " + e.getOriginalMessage(), e);
    }
  }

  @Override
  public Integer call() throws IOException {
    OptionChecks.refuseOverwrite(force.force, java.util.List.of(out)); // issue 10: before any work
    if (kind.equals("teacher")) {
      return TeacherCommands.convert(
          in, out, config); // issue 12: its missing-file error names the published files
    }
    if (kind.equals(
        "inception")) { // --- issue 11: torch-fidelity / pytorch-fid Inception weights ---
      return InceptionConvert.convert(in, out, force.force);
    }
    if (!Files.isRegularFile(in)) {
      throw new NoSuchFileException(in.toString(), null, "checkpoint not found");
    }
    // --- issue 10: keep what the input carries ---
    if (stats != null && noStats) {
      throw new picocli.CommandLine.ParameterException(
          new picocli.CommandLine(this), "--stats and --no-stats exclude each other");
    }
    if (config == null) {
      throw new picocli.CommandLine.ParameterException(
          new picocli.CommandLine(this), "--config is required for --kind " + kind);
    }
    JsonNode cfg =
        Files.isRegularFile(Path.of(config))
            ? ModelFile.configFromGolden(readJson(Path.of(config)))
            : ModelFile.presetConfig(config);
    float[] mean = null;
    float[] std = null;
    if (stats != null) {
      LatentStatistics s = LatentStatistics.read(stats); // validated: lengths, finite, std > 0
      mean = s.mean();
      std = s.std();
    } else if (!noStats) {
      float[][] kept = KeptStatistics.of(in);
      if (kept != null) {
        mean = kept[0];
        std = kept[1];
      }
    }
    switch (kind) {
      case "tokenizer" -> {
        RecTokConfig c = ModelFile.tokenizerConfig(cfg);
        if (mean != null && mean.length != c.tokenChannels()) {
          throw new IOException(
              stats + ": " + mean.length + " channels, the tokenizer has " + c.tokenChannels());
        }
        try (RecTok model = new RecTok(c)) {
          var report = TokenizerCheckpoints.load(model, in);
          System.out.println("loaded " + in + ": " + report);
          ModelFile.write(out, kind, cfg, model.stateDict(), mean, std);
        }
      }
      case "generator" -> {
        if (stats != null) {
          throw new IllegalArgumentException(
              "--stats belongs to the tokenizer's model file, not the generator's");
        }
        DiTConfig c = ModelFile.generatorConfig(cfg);
        try (DiTwDDTHead net = new DiTwDDTHead(c)) {
          var summary = DiTCheckpoints.load(net, in);
          System.out.println("loaded " + in + " [" + summary.entry() + "]");
          ModelFile.write(out, kind, cfg, net.stateDict(), null, null);
        }
      }
      default ->
          throw new picocli.CommandLine.ParameterException(
              spec.commandLine(),
              "--kind must be tokenizer, generator, teacher or inception, not '" + kind + "'");
    }
    System.out.println(
        "wrote "
            + out
            + (mean != null
                ? " (with latent statistics" + (stats == null ? " kept from " + in : "") + ")"
                : ""));
    return 0;
  }
}
