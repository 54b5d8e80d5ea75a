package dev.rectok.cli;

import dev.rectok.api.GenerateOptions;
import dev.rectok.api.Latents;
import dev.rectok.generate.DiTGenerator;
import dev.rectok.models.RecTokTokenizer;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code rectok generate}: class-conditional images through the generator and the tokenizer. */
@Command(
    name = "generate",
    description =
        "Generate class-conditional images (Euler/Heun, CFG, AutoGuidance) and decode them.")
final class GenerateCommand implements Callable<Integer> {
  @Option(
      names = "--generator",
      required = true,
      description = "generator model file (e.g. DiTDDT_xl)")
  Path generator;

  @Option(names = "--guide", description = "AutoGuidance companion model file (e.g. DiTDDT_s)")
  Path guide;

  @Option(
      names = "--tokenizer",
      required = true,
      description = "tokenizer model file with latent statistics")
  Path tokenizer;

  @Option(
      names = "--labels",
      required = true,
      split = ",",
      description = "class labels, e.g. 1,207,360")
  long[] labels;

  @Option(names = "--seed", description = "seed of the initial noise (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--out", required = true, description = "folder for the PNGs")
  Path out;

  @Option(names = "--grid", description = "also write a labelled grid PNG here")
  Path grid;

  @Mixin SamplingOptions sampling;

  @Mixin DeviceOption device;

  @Mixin ForceOption force;

  // --- issue 13: precision ---
  @Mixin PrecisionOption precision;

  @Override
  public Integer call() throws Exception {
    // OptionChecks has validated --guidance, --method, --steps, --scale and --labels' size
    List<Path> outputs = new ArrayList<>();
    for (int i = 0; i < labels.length; i++) {
      outputs.add(ImagesOut.file(out, "sample_", i));
    }
    outputs.add(grid);
    OptionChecks.refuseOverwrite(force.force, outputs);
    GenerateOptions.GuidanceKind kind = sampling.kind();
    if (kind == GenerateOptions.GuidanceKind.AUTOGUIDANCE && guide == null) {
      throw new IllegalArgumentException(
          "--guidance autoguidance needs --guide (the DiTDDT_s model file)");
    }
    precision.resolve(device.get()); // refuses an unsupported bf16 before any work
    GenerateOptions options = sampling.builder().precision(precision.get()).build();
    try (RecTokTokenizer tok = RecTokTokenizer.open(tokenizer, device.get(), precision.get());
        DiTGenerator gen =
            DiTGenerator.open(
                generator,
                kind == GenerateOptions.GuidanceKind.AUTOGUIDANCE ? guide : null,
                device.get(),
                precision.get())) {
      if (!tok.hasStatistics()) {
        throw new IllegalArgumentException(
            "the tokenizer file has no latent statistics, so generated latents cannot be "
                + "decoded: run 'rectok stats --tokenizer "
                + tokenizer
                + " --images DIR' and 'rectok convert ... --stats STATS'");
      }
      if (!Arrays.equals(tok.latentShape(), gen.latentShape())) {
        throw new IllegalArgumentException(
            "the generator makes "
                + Arrays.toString(gen.latentShape())
                + " latents but the tokenizer decodes "
                + Arrays.toString(tok.latentShape()));
      }
      Latents latents = gen.sample(labels, seed, options, new ConsoleProgress(System.err));
      List<BufferedImage> images = tok.decode(latents);
      List<Path> files = ImagesOut.writeAll(images, out, "sample_");
      System.out.println("wrote " + files.size() + " images to " + out);
      if (grid != null) {
        List<String> captions = new ArrayList<>();
        for (long l : labels) {
          captions.add("class " + l);
        }
        ImageIO.write(
            ImagesOut.grid(images, captions, Math.min(8, images.size())), "png", grid.toFile());
        System.out.println("wrote grid " + grid);
      }
    }
    return 0;
  }
}
