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

  @Command(name = "encode", description = "Encode images to latents (ADM crop, posterior mean or a seeded sample).")
  static final class Encode implements Callable<Integer> {
    @Option(names = "--tokenizer", required = true, description = "tokenizer model file (rectok convert)")
    Path tokenizer;

    @Option(names = "--out", required = true, description = "latents file to write (.safetensors)")
    Path out;

    @Option(names = "--sample", description = "sample the posterior instead of taking its mean")
    boolean sample;

    @Option(names = "--seed", description = "seed for --sample (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--raw", description = "keep the raw posterior (no channel normalization)")
    boolean raw;

    @Mixin
    DeviceOption device;

    @Parameters(paramLabel = "IMAGE", arity = "1..*")
    List<Path> images;

    @Override
    public Integer call() throws Exception {
      try (RecTokTokenizer tok = RecTokTokenizer.open(tokenizer, device.get())) {
        Latents l = tok.encode(tok.read(images), sample, seed, !raw);
        LatentsFile.write(out, l);
        System.out.println("wrote " + l + " to " + out);
      }
      return 0;
    }
  }

  @Command(name = "decode", description = "Decode latents to PNG images.")
  static final class Decode implements Callable<Integer> {
    @Option(names = "--tokenizer", required = true, description = "tokenizer model file")
    Path tokenizer;

    @Option(names = "--out", required = true, description = "folder for the PNGs")
    Path out;

    @Mixin
    DeviceOption device;

    @Parameters(paramLabel = "LATENTS", description = "latents file from 'rectok encode' or 'rectok generate --latents'")
    Path latents;

    @Override
    public Integer call() throws Exception {
      try (RecTokTokenizer tok = RecTokTokenizer.open(tokenizer, device.get())) {
        List<Path> files = ImagesOut.writeAll(tok.decode(LatentsFile.read(latents)), out, "decoded_");
        System.out.println("wrote " + files.size() + " images to " + out);
      }
      return 0;
    }
  }

  @Command(name = "reconstruct", description = "Encode and decode images (the reference's reconstruct).")
  static final class Reconstruct implements Callable<Integer> {
    @Option(names = "--tokenizer", required = true, description = "tokenizer model file")
    Path tokenizer;

    @Option(names = "--out", required = true, description = "folder for the PNGs")
    Path out;

    @Mixin
    DeviceOption device;

    @Parameters(paramLabel = "IMAGE", arity = "1..*")
    List<Path> images;

    @Override
    public Integer call() throws Exception {
      try (RecTokTokenizer tok = RecTokTokenizer.open(tokenizer, device.get())) {
        List<Path> files = ImagesOut.writeAll(tok.reconstruct(tok.read(images)), out, "reconstructed_");
        System.out.println("wrote " + files.size() + " images to " + out);
      }
      return 0;
    }
  }
}
