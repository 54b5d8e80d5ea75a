package dev.rectok.models.dit;

import dev.rectok.torch.io.PthCheckpoint;
import dev.rectok.torch.nn.LoadReport;
import dev.rectok.torch.nn.StateDictLoader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * Loads DiT^DH weights the way the reference's generator pipeline does, as a policy over {@link
 * StateDictLoader}: from a {@code .pth} checkpoint take {@code model_ema} (the weights used for
 * sampling), else {@code model}, else the top-level dict; from {@code .safetensors} take every
 * tensor. Every parameter of the network must be present with its exact shape (a missing or
 * mis-shaped key is an error that names it, and nothing is loaded); the RoPE tables are recomputed,
 * never loaded; other keys are ignored and reported.
 *
 * <p>Stateless and thread-safe itself; loading writes into the network, which must not be in use
 * meanwhile. The checkpoint files are closed before returning.
 */
public final class DiTCheckpoints {
  private DiTCheckpoints() {}

  /**
   * Loads {@code file} ({@code .safetensors} by its extension, otherwise a {@code torch.save} zip).
   */
  public static LoadReport load(DiTwDDTHead net, Path file) throws IOException {
    return loadPth(net, file, null);
  }

  /**
   * Loads a {@code .pth} checkpoint (or a safetensors file, by extension). {@code entry} names the
   * dict to use ({@code "model"}, {@code "model_ema"}); null applies the pipeline's rule ({@code
   * model_ema}, else {@code model}, else the top-level dict).
   */
  public static LoadReport loadPth(DiTwDDTHead net, Path file, String entry) throws IOException {
    Function<PthCheckpoint, String> choose =
        entry != null
            ? c -> entry
            : c -> {
              String chosen = StateDictLoader.modelEmaElseModel(c);
              if (chosen == null && c.topLevelKeys().isEmpty()) {
                throw new IllegalArgumentException(file + ": the checkpoint is not a dict");
              }
              return chosen;
            };
    LoadReport r =
        StateDictLoader.load(
            net,
            file,
            StateDictLoader.Policy.of(describe(net))
                .withPthEntry(choose)
                .withRecomputed(net.recomputedKeys()));
    // The tables are functions of the configuration; recomputing them also repairs any value a
    // caller may have loaded into them through Module.loadStateDict.
    net.recomputeBuffers();
    return r;
  }

  /** Loads a safetensors file (e.g. the {@code model_ema} dict written as safetensors). */
  public static LoadReport loadSafetensors(DiTwDDTHead net, Path file) throws IOException {
    if (!file.getFileName().toString().endsWith(".safetensors")) {
      throw new IllegalArgumentException(file + ": not a .safetensors file");
    }
    return loadPth(net, file, null);
  }

  private static String describe(DiTwDDTHead net) {
    DiTConfig c = net.config();
    return "DiTwDDTHead(hidden_size="
        + c.hiddenSize()
        + ", depth="
        + c.depth()
        + ", num_heads="
        + c.numHeads()
        + ", token_channels="
        + c.tokenChannels()
        + ", input_size="
        + c.inputSize()
        + ")";
  }
}
