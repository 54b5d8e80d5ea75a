package dev.rectok.cli;

import dev.rectok.models.inception.InceptionV3;
import dev.rectok.models.inception.InceptionWeights;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * {@code rectok convert IN OUT --kind inception}: validated by loading, written as safetensors.
 * Stateless.
 */
final class InceptionConvert {
  private InceptionConvert() {}

  static int convert(Path in, Path out, boolean force) throws IOException {
    if (Files.exists(out) && !force) {
      throw new FileAlreadyExistsException(
          out.toString(), null, "exists; pass --force to overwrite");
    }
    try (InceptionV3 net = InceptionWeights.load(in)) {
      InceptionWeights.save(
          net,
          out,
          Map.of(
              "rectok.source",
              in.getFileName().toString(),
              "rectok.source_sha256",
              EvalCommand.sha256(in)));
    }
    System.out.println("wrote " + out + " (InceptionV3, torch-fidelity layout)");
    return 0;
  }
}
