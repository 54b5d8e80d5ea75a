package dev.rectok.torch.nn;

import java.nio.file.Path;
import java.util.List;

/**
 * What {@link StateDictLoader} loaded from a checkpoint. Immutable; thread-safe.
 *
 * @param file the file read
 * @param entry the dict the weights came from: a top-level key of a {@code .pth} such as {@code
 *     model_ema}, {@value #ROOT} for its top-level dict, or {@value #SAFETENSORS}
 * @param loaded model keys copied from the file, in the model's order
 * @param recomputed model keys the model recomputes instead of loading (whether the file had them
 *     or not)
 * @param ignored file keys (after renaming) the model does not have
 * @param renamed how many file keys the policy renamed
 */
public record LoadReport(
    Path file,
    String entry,
    List<String> loaded,
    List<String> recomputed,
    List<String> ignored,
    int renamed) {
  /** The entry name of a {@code .pth}'s top-level dict. */
  public static final String ROOT = "<root>";

  /** The entry name of a safetensors file. */
  public static final String SAFETENSORS = "<safetensors>";

  /** Copies the lists. */
  public LoadReport {
    loaded = List.copyOf(loaded);
    recomputed = List.copyOf(recomputed);
    ignored = List.copyOf(ignored);
  }
}
