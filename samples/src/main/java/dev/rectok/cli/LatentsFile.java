package dev.rectok.cli;

import dev.rectok.api.Latents;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.io.CheckpointFormatException;
import dev.rectok.torch.io.HostTensor;
import dev.rectok.torch.io.SafeTensors;
import dev.rectok.torch.io.SafeTensorsFile;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Map;

/**
 * Latents on disk: a safetensors file with tensor {@code latents} (B, C, H, W) and a {@code
 * normalized} flag.
 */
final class LatentsFile {
  private LatentsFile() {}

  static void write(Path file, Latents latents) throws IOException {
    try (Tensor t = Tensor.of(latents.values(), latents.shape());
        Arena arena = Arena.ofConfined()) {
      SafeTensors.write(
          file,
          Map.of("latents", t.toHost(arena)),
          Map.of("normalized", String.valueOf(latents.normalized())));
    }
  }

  static Latents read(Path file) throws IOException {
    try (SafeTensorsFile f = SafeTensors.open(file)) {
      if (!f.contains("latents")) {
        throw new CheckpointFormatException(
            file + " holds no 'latents' tensor (write it with 'rectok encode')");
      }
      HostTensor h = f.get("latents");
      long[] s = h.shape();
      if (s.length != 4) {
        throw new CheckpointFormatException(file + ": latents must be (B, C, H, W)");
      }
      // --- issue 10: empty, oversized or non-finite latents are refused naming the file ---
      if (h.numel() == 0 || !h.dtype().isFloatingPoint() || h.numel() > Integer.MAX_VALUE - 8) {
        throw new CheckpointFormatException(
            file
                + ": the 'latents' tensor "
                + java.util.Arrays.toString(s)
                + " of "
                + h.dtype().safetensorsName()
                + " is empty, not floating point or too large; write it with 'rectok encode'");
      }
      long bad = dev.rectok.torch.io.FiniteValues.firstNonFinite(h);
      if (bad >= 0) {
        throw new CheckpointFormatException(
            file
                + ": the latents hold a non-finite value at flat index "
                + bad
                + "; they would decode to garbage");
      }
      try (Tensor t = Tensor.fromHost(h)) {
        return new Latents(
            t.toFloatArray(),
            (int) s[0],
            (int) s[1],
            (int) s[2],
            (int) s[3],
            Boolean.parseBoolean(f.metadata().getOrDefault("normalized", "true")));
      }
    }
  }
}
