package dev.rectok.models.tokenizer;

import dev.rectok.torch.io.HostTensor;
import dev.rectok.torch.io.PthCheckpoint;
import dev.rectok.torch.io.PthReader;
import dev.rectok.torch.io.PthTensor;
import dev.rectok.torch.io.SafeTensors;
import dev.rectok.torch.io.SafeTensorsFile;
import dev.rectok.torch.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads tokenizer weights the way the reference's generator pipeline does (spec §8,
 * {@code utils/builders.py create_generation_model}): from a {@code .pth} take {@code model_ema},
 * else {@code model}, else the top-level dict; rename {@code aux} to {@code sem} in key names
 * (the pre-release names, {@code utils/misc.py ckpt_resume}); ignore keys the model does not
 * have (the reference loads with {@code strict=False}) but report them. Non-persistent buffers
 * (RoPE tables, latent statistics) are never loaded: the model recomputes them.
 *
 * <p>Unlike {@code strict=False}, a parameter the model has but the checkpoint lacks, or one
 * with another shape, is an error naming the key: a silently half-loaded tokenizer would produce
 * plausible-looking garbage. Nothing is copied unless every key checks out.
 *
 * <p>Stateless and thread-safe; loading into one model must not overlap with its other use.
 */
public final class TokenizerCheckpoints {
  private static final Logger LOG = LoggerFactory.getLogger(TokenizerCheckpoints.class);

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

  /**
   * What was loaded.
   *
   * @param file the checkpoint
   * @param source the dict read ({@code model_ema}, {@code model}, {@code <root>} or
   *     {@code <safetensors>})
   * @param loadedKeys number of tensors copied into the model
   * @param ignoredKeys checkpoint keys (after renaming) the model has no parameter for
   * @param renamedKeys number of keys renamed from {@code aux} to {@code sem}
   */
  public record LoadReport(Path file, String source, int loadedKeys, List<String> ignoredKeys, int renamedKeys) {
    public LoadReport {
      ignoredKeys = List.copyOf(ignoredKeys);
    }
  }

  /** Loads a {@code .pth} ({@link Source#AUTO}) or a {@code .safetensors} file, by extension. */
  public static LoadReport load(RecTok model, Path file) throws IOException {
    if (file.getFileName().toString().endsWith(".safetensors")) {
      return loadSafetensors(model, file);
    }
    return loadPth(model, file, Source.AUTO);
  }

  /** Loads the chosen dict of a {@code torch.save} checkpoint. */
  public static LoadReport loadPth(RecTok model, Path file, Source source) throws IOException {
    try (PthCheckpoint ckpt = PthReader.read(file)) {
      String key = dictKey(source, k -> isDict(ckpt, k));
      Map<String, PthTensor> tensors = key == null ? ckpt.tensors() : ckpt.tensors(key);
      Map<String, HostTensor> host = new LinkedHashMap<>();
      Map<String, Tensor> model0 = model.stateDict();
      for (var e : tensors.entrySet()) {
        // Only materialize what can be used; the stage-1 file may hold a whole DINOv3.
        if (model0.containsKey(rename(e.getKey()))) {
          host.put(e.getKey(), e.getValue().toHost());
        } else {
          host.put(e.getKey(), null);
        }
      }
      return apply(model, file, key == null ? "<root>" : key, host);
    }
  }

  /** Loads a safetensors file holding the parameter dict (e.g. the golden {@code weights.safetensors}). */
  public static LoadReport loadSafetensors(RecTok model, Path file) throws IOException {
    try (SafeTensorsFile st = SafeTensors.open(file)) {
      Map<String, HostTensor> host = new LinkedHashMap<>();
      for (String name : st.names()) {
        host.put(name, st.get(name));
      }
      return apply(model, file, "<safetensors>", host);
    }
  }

  /**
   * The top-level key of the dict to read, or null for the root dict itself: for
   * {@link Source#AUTO}, {@code model_ema} if the root has such a dict, else {@code model}, else
   * the root.
   */
  static String dictKey(Source source, java.util.function.Predicate<String> rootHasDict) {
    return switch (source) {
      case AUTO -> rootHasDict.test("model_ema") ? "model_ema" : rootHasDict.test("model") ? "model" : null;
      case MODEL_EMA -> "model_ema";
      case MODEL -> "model";
      case ROOT -> null;
    };
  }

  /** {@code aux} → {@code sem}, as {@code ckpt_resume} renames the pre-release keys. */
  static String rename(String key) {
    return key.contains("aux") ? key.replace("aux", "sem") : key;
  }

  private static boolean isDict(PthCheckpoint ckpt, String key) {
    return ckpt.root() instanceof Map<?, ?> m && m.get(key) instanceof Map<?, ?>;
  }

  /** {@code host} values may be null for keys the caller already knows are unused. */
  private static LoadReport apply(RecTok model, Path file, String source, Map<String, HostTensor> host) {
    Map<String, Tensor> own = model.stateDict();
    Map<String, HostTensor> usable = new LinkedHashMap<>();
    List<String> ignored = new ArrayList<>();
    int renamed = 0;
    for (var e : host.entrySet()) {
      String k = rename(e.getKey());
      if (!k.equals(e.getKey())) {
        renamed++;
      }
      if (own.containsKey(k) && e.getValue() != null) {
        usable.put(k, e.getValue());
      } else {
        ignored.add(k);
      }
    }
    List<String> missing = new ArrayList<>();
    List<String> mismatched = new ArrayList<>();
    for (var e : own.entrySet()) {
      HostTensor t = usable.get(e.getKey());
      if (t == null) {
        missing.add(e.getKey());
      } else if (!Arrays.equals(t.shape(), e.getValue().shape())) {
        mismatched.add(e.getKey() + " (checkpoint " + Arrays.toString(t.shape()) + ", model "
            + Arrays.toString(e.getValue().shape()) + ")");
      }
    }
    if (!missing.isEmpty() || !mismatched.isEmpty()) {
      throw new IllegalArgumentException(file + " [" + source + "] does not fit the tokenizer: missing " + missing
          + ", mis-shaped " + mismatched + " (nothing was loaded)");
    }
    model.loadHostStateDict(usable, true);
    LOG.info("Loaded {} tensors into RecTok from {} [{}]; {} keys ignored, {} renamed aux->sem",
        usable.size(), file, source, ignored.size(), renamed);
    if (!ignored.isEmpty()) {
      LOG.debug("Ignored checkpoint keys: {}", ignored);
    }
    return new LoadReport(file, source, usable.size(), ignored, renamed);
  }
}
