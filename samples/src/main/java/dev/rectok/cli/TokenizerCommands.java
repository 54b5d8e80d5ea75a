package dev.rectok.cli;

import dev.rectok.api.Latents;
import dev.rectok.models.RecTokTokenizer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code rectok encode | decode | reconstruct}. */
final class TokenizerCommands {
  private TokenizerCommands() {}

  /** What every tokenizer command takes: the model, where to write, the device. */
  static final class Common {
    @Option(
        names = "--tokenizer",
        required = true,
        description = "tokenizer model file (rectok convert)")
    Path tokenizer;

    @Option(
        names = "--out",
        required = true,
        description = "where to write: a latents file for encode, a folder of PNGs otherwise")
    Path out;

    @Mixin DeviceOption device;

    @Mixin ForceOption force;

    // --- issue 13: precision ---
    @Mixin PrecisionOption precision;

    RecTokTokenizer open() throws java.io.IOException {
      precision.resolve(device.get()); // a usage error for an unsupported bf16
      return RecTokTokenizer.open(tokenizer, device.get(), precision.get());
    }
  }

  @Command(
      name = "encode",
      description = "Encode images to latents (ADM crop, posterior mean or a seeded sample).")
  static final class Encode implements Callable<Integer> {
    @Mixin Common common;

    @Option(names = "--sample", description = "sample the posterior instead of taking its mean")
    boolean sample;

    @Option(names = "--seed", description = "seed for --sample (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--raw", description = "keep the raw posterior (no channel normalization)")
    boolean raw;

    @Parameters(paramLabel = "IMAGE", arity = "1..*")
    List<Path> images;

    @Override
    public Integer call() throws Exception {
      OptionChecks.refuseOverwrite(common.force.force, List.of(common.out));
      try (RecTokTokenizer tok = common.open()) {
        Latents l = tok.encode(tok.read(images), sample, seed, !raw);
        LatentsFile.write(common.out, l);
        System.out.println("wrote " + l + " to " + common.out);
      }
      return 0;
    }
  }

  @Command(name = "decode", description = "Decode latents to PNG images.")
  static final class Decode implements Callable<Integer> {
    @Mixin Common common;

    @Parameters(
        paramLabel = "LATENTS",
        description = "latents file from 'rectok encode' or 'rectok generate --latents'")
    Path latents;

    @Override
    public Integer call() throws Exception {
      Latents l = LatentsFile.read(latents); // validated before the model is loaded
      OptionChecks.refuseOverwrite(
          common.force.force, ImagesOut.files(common.out, "decoded_", l.batch()));
      try (RecTokTokenizer tok = common.open()) {
        List<Path> files = ImagesOut.writeAll(tok.decode(l), common.out, "decoded_");
        System.out.println("wrote " + files.size() + " images to " + common.out);
      }
      return 0;
    }
  }

  @Command(
      name = "reconstruct",
      description = "Encode and decode images (the reference's reconstruct).")
  static final class Reconstruct implements Callable<Integer> {
    @Mixin Common common;

    @Parameters(paramLabel = "IMAGE", arity = "1..*")
    List<Path> images;

    @Override
    public Integer call() throws Exception {
      OptionChecks.refuseOverwrite(
          common.force.force, ImagesOut.files(common.out, "reconstructed_", images.size()));
      try (RecTokTokenizer tok = common.open()) {
        List<Path> files =
            ImagesOut.writeAll(tok.reconstruct(tok.read(images)), common.out, "reconstructed_");
        System.out.println("wrote " + files.size() + " images to " + common.out);
      }
      return 0;
    }
  }
}
