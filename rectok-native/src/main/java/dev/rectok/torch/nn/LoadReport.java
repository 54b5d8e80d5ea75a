package dev.rectok.torch.nn;

import java.nio.file.Path;
import java.util.List;

/**
 * What a state dict load did: {@link StateDictLoader} from a checkpoint file, or {@link
 * Module#loadStateDict} from a dict in memory. The one report type of every loader. Immutable;
 * thread-safe.
 *
 * @param file the file read ({@code null} for a dict in memory)
 * @param entry the dict the weights came from: a top-level key of a {@code .pth} such as {@code
 *     model_ema}, {@value #ROOT} for its top-level dict, {@value #SAFETENSORS}, or {@value #MEMORY}
 * @param loaded model keys copied from the file, in the model's order
 * @param recomputed model keys the model recomputes instead of loading (whether the file had them
 *     or not)
 * @param ignored file keys (after renaming) the model does not have
 * @param renamed how many file keys the policy renamed
 * @param missing model keys the dict did not hold and that were left as they were (neither loaded
 *     nor recomputed), in the model's order
 */
public record LoadReport(
    Path file,
    String entry,
    List<String> loaded,
    List<String> recomputed,
    List<String> ignored,
    int renamed,
    List<String> missing) {
  /** The entry name of a {@code .pth}'s top-level dict. */
  public static final String ROOT = "<root>";

  /** The entry name of a safetensors file. */
  public static final String SAFETENSORS = "<safetensors>";

  /** The entry name of a state dict handed over in memory. */
  public static final String MEMORY = "<memory>";

  /** Copies the lists. */
  public LoadReport {
    loaded = List.copyOf(loaded);
    recomputed = List.copyOf(recomputed);
    ignored = List.copyOf(ignored);
    missing = List.copyOf(missing);
  }

  /** True when every model key was loaded or recomputed and every dict key was used. */
  public boolean isClean() {
    return missing.isEmpty() && ignored.isEmpty();
  }
}
