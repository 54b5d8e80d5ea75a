package dev.rectok.cli;

import dev.rectok.models.ModelFile;
import dev.rectok.torch.io.SafeTensors;
import dev.rectok.torch.io.SafeTensorsFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The latent statistics a RecTok model file given to {@code convert} carries, so converting keeps
 * them.
 */
final class KeptStatistics {
  private KeptStatistics() {}

  /**
   * {mean, std} of {@code in} when it is a RecTok model file with statistics (validated), else
   * null.
   */
  static float[][] of(Path in) throws IOException {
    byte[] head;
    try (InputStream s = Files.newInputStream(in)) {
      head = s.readNBytes(4);
    }
    if (head.length == 4 && head[0] == 'P' && head[1] == 'K') {
      return null; // a .pth zip carries no statistics
    }
    try (SafeTensorsFile f = SafeTensors.open(in)) {
      if (!f.metadata().containsKey(ModelFile.LATENT_MEAN)) {
        return null;
      }
      ModelFile.Header h = ModelFile.header(f);
      return new float[][] {h.latentMean(), h.latentStd()};
    }
  }
}
