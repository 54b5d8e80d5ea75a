package dev.rectok.models.tokenizer;

import dev.rectok.torch.nn.LoadReport;
import dev.rectok.torch.nn.StateDictLoader;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Loads tokenizer weights the way the reference's generator pipeline does
 * (docs/checkpoints.md#which-dict, {@code utils/builders.py create_generation_model}), as a policy
 * over {@link StateDictLoader}: from a {@code .pth} take {@code model_ema}, else {@code model},
 * else the top-level dict; rename {@code aux} to {@code sem} in key names (the pre-release names,
 * {@code utils/misc.py ckpt_resume}); ignore keys the model does not have (the reference loads with
 * {@code strict=False}) but report them. Non-persistent buffers (RoPE tables, latent statistics)
 * are never loaded: the model recomputes them.
 *
 * <p>Unlike {@code strict=False}, a parameter the model has but the checkpoint lacks, or one with
 * another shape, is an error naming the key: a silently half-loaded tokenizer would produce
 * plausible-looking garbage. Nothing is copied unless every key checks out.
 *
 * <p>Stateless and thread-safe; loading into one model must not overlap with its other use.
 */
public final class TokenizerCheckpoints {
  private TokenizerCheckpoints() {}

  /** Which dict of a {@code .pth} to read. */
  public enum Source {
    /** {@code model_ema}, else {@code model}, else the top-level dict (the reference's rule). */
    AUTO,
    MODEL_EMA,
    MODEL,
    /** The top-level dict itself. */
    ROOT
  }

  /** Loads a {@code .pth} ({@link Source#AUTO}) or a {@code .safetensors} file, by extension. */
  public static LoadReport load(RecTok model, Path file) throws IOException {
    return loadPth(model, file, Source.AUTO);
  }

  /**
   * Loads the chosen dict of a {@code torch.save} checkpoint (or a safetensors file, by extension).
   */
  public static LoadReport loadPth(RecTok model, Path file, Source source) throws IOException {
    return StateDictLoader.load(
        model,
        file,
        StateDictLoader.Policy.of("the tokenizer")
            .withPthEntry(c -> dictKey(source, k -> StateDictLoader.isDict(c, k)))
            .withRename(TokenizerCheckpoints::rename));
  }

  /**
   * Loads a safetensors file holding the parameter dict (e.g. the golden {@code
   * weights.safetensors}).
   */
  public static LoadReport loadSafetensors(RecTok model, Path file) throws IOException {
    if (!file.getFileName().toString().endsWith(".safetensors")) {
      throw new IllegalArgumentException(file + ": not a .safetensors file");
    }
    return load(model, file);
  }

  /**
   * The top-level key of the dict to read, or null for the root dict itself: for {@link
   * Source#AUTO}, {@code model_ema} if the root has such a dict, else {@code model}, else the root.
   */
  static String dictKey(Source source, java.util.function.Predicate<String> rootHasDict) {
    return switch (source) {
      case AUTO ->
          rootHasDict.test("model_ema") ? "model_ema" : rootHasDict.test("model") ? "model" : null;
      case MODEL_EMA -> "model_ema";
      case MODEL -> "model";
      case ROOT -> null;
    };
  }

  /** {@code aux} → {@code sem}, as {@code ckpt_resume} renames the pre-release keys. */
  static String rename(String key) {
    return key.contains("aux") ? key.replace("aux", "sem") : key;
  }
}
