package dev.rectok.torch.nn;

import dev.rectok.torch.Tensor;
import dev.rectok.torch.io.HostTensor;
import dev.rectok.torch.io.PthCheckpoint;
import dev.rectok.torch.io.PthReader;
import dev.rectok.torch.io.SafeTensors;
import dev.rectok.torch.io.SafeTensorsFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * The one state-dict loader: reads a {@code .safetensors} file or a {@code torch.save} checkpoint
 * (by extension), picks a sub-dict, renames keys, and copies the tensors into a {@link Module}.
 * Model loaders are {@link Policy policies} over it (which sub-dict, which renames, which keys are
 * recomputed rather than loaded, whether unknown keys are an error).
 *
 * <p>Everything is checked before anything is copied: a required key that is missing or mis-shaped
 * (and, if the policy says so, an unknown key) throws {@link IllegalArgumentException} naming the
 * file, the dict, the model and the keys, and leaves the module unchanged. Only tensors that will
 * be copied are materialized (a stage-1 file may hold a whole DINOv3).
 *
 * <p>Stateless and thread-safe; loading writes into the module, which must not be in use meanwhile.
 * The file is closed before returning.
 */
public final class StateDictLoader {
  private static final System.Logger LOG = System.getLogger(StateDictLoader.class.getName());

  private StateDictLoader() {}

  /**
   * How one kind of model reads a checkpoint.
   *
   * @param model the model's name, for messages
   * @param pthEntry the top-level key of the {@code .pth} dict to read, or null for the root dict
   * @param rename the model's name for a file key, or null to skip the key silently
   * @param recomputed model keys never loaded (the model recomputes them) and not required
   * @param required model keys that must be supplied (the others are loaded when present)
   * @param unknownKeysAreErrors whether a (renamed) file key the model lacks is an error rather
   *     than ignored and reported
   */
  public record Policy(
      String model,
      Function<PthCheckpoint, String> pthEntry,
      UnaryOperator<String> rename,
      Set<String> recomputed,
      Predicate<String> required,
      boolean unknownKeysAreErrors) {
    /** Validates and copies. */
    public Policy {
      Objects.requireNonNull(model, "model");
      Objects.requireNonNull(pthEntry, "pthEntry");
      Objects.requireNonNull(rename, "rename");
      recomputed = Set.copyOf(recomputed);
      Objects.requireNonNull(required, "required");
    }

    /** The root dict, no renames, nothing recomputed, every key required, unknown keys ignored. */
    public static Policy of(String model) {
      return new Policy(model, c -> null, UnaryOperator.identity(), Set.of(), k -> true, false);
    }

    /** This policy reading the {@code .pth} dict that {@code entry} chooses (null: the root). */
    public Policy withPthEntry(Function<PthCheckpoint, String> entry) {
      return new Policy(model, entry, rename, recomputed, required, unknownKeysAreErrors);
    }

    /** This policy with {@code rename} (null skips a key). */
    public Policy withRename(UnaryOperator<String> r) {
      return new Policy(model, pthEntry, r, recomputed, required, unknownKeysAreErrors);
    }

    /** This policy with {@code keys} recomputed by the model instead of loaded. */
    public Policy withRecomputed(java.util.Collection<String> keys) {
      Set<String> s = Set.copyOf(keys);
      return new Policy(
          model, pthEntry, rename, s, required.and(k -> !s.contains(k)), unknownKeysAreErrors);
    }

    /** This policy requiring only the model keys that pass {@code r}. */
    public Policy withRequired(Predicate<String> r) {
      return new Policy(model, pthEntry, rename, recomputed, r, unknownKeysAreErrors);
    }

    /** This policy refusing file keys the model lacks. */
    public Policy strict() {
      return new Policy(model, pthEntry, rename, recomputed, required, true);
    }
  }

  /**
   * The reference pipeline's rule for a training checkpoint: {@code model_ema} if the root holds
   * such a dict, else {@code model}, else the root (null).
   */
  public static String modelEmaElseModel(PthCheckpoint c) {
    return isDict(c, "model_ema") ? "model_ema" : isDict(c, "model") ? "model" : null;
  }

  /** Whether the root of {@code c} is a dict whose {@code key} is a dict. */
  public static boolean isDict(PthCheckpoint c, String key) {
    return c.root() instanceof Map<?, ?> m && m.get(key) instanceof Map<?, ?>;
  }

  /** Loads {@code file} into {@code target} under {@code policy}. */
  public static LoadReport load(Module target, Path file, Policy policy) throws IOException {
    if (file.getFileName().toString().endsWith(".safetensors")) {
      try (SafeTensorsFile st = SafeTensors.open(file)) {
        Map<String, Source> sources = new LinkedHashMap<>();
        for (String name : st.names()) {
          sources.put(name, new Source(st.info(name).shape(), () -> st.get(name)));
        }
        return apply(target, file, LoadReport.SAFETENSORS, sources, policy);
      }
    }
    try (PthCheckpoint ckpt = PthReader.read(file)) {
      String entry = policy.pthEntry().apply(ckpt);
      Map<String, Source> sources = new LinkedHashMap<>();
      (entry == null ? ckpt.tensors() : ckpt.tensors(entry))
          .forEach((k, t) -> sources.put(k, new Source(t.shape(), t::toHost)));
      return apply(target, file, entry == null ? LoadReport.ROOT : entry, sources, policy);
    }
  }

  /** A tensor of the file: its shape up front, its bytes only when needed. */
  private record Source(long[] shape, Supplier<HostTensor> host) {}

  private static LoadReport apply(
      Module target, Path file, String entry, Map<String, Source> state, Policy p) {
    Map<String, Tensor> own = target.stateDict();
    Map<String, Source> usable = new LinkedHashMap<>();
    List<String> ignored = new ArrayList<>();
    int renamed = 0;
    int recomputedInFile = 0;
    for (var e : state.entrySet()) {
      String k = p.rename().apply(e.getKey());
      if (k == null) {
        continue;
      }
      if (!k.equals(e.getKey())) {
        renamed++;
      }
      if (!own.containsKey(k)) {
        ignored.add(k);
      } else if (p.recomputed().contains(k)) {
        recomputedInFile++;
      } else {
        usable.put(k, e.getValue());
      }
    }
    List<String> missing = new ArrayList<>();
    List<String> mismatched = new ArrayList<>();
    for (var e : own.entrySet()) {
      Source src = usable.get(e.getKey());
      if (src == null) {
        if (p.required().test(e.getKey())) {
          missing.add(e.getKey());
        }
      } else if (!Arrays.equals(src.shape(), e.getValue().shape())) {
        mismatched.add(
            e.getKey()
                + " (file "
                + Arrays.toString(src.shape())
                + ", model "
                + Arrays.toString(e.getValue().shape())
                + ")");
      }
    }
    boolean unknownFails = p.unknownKeysAreErrors() && !ignored.isEmpty();
    if (!missing.isEmpty() || !mismatched.isEmpty() || unknownFails) {
      throw new IllegalArgumentException(
          file
              + " ["
              + entry
              + "] does not fit "
              + p.model()
              + (missing.isEmpty() ? "" : "; missing keys: " + missing)
              + (mismatched.isEmpty() ? "" : "; mis-shaped keys: " + mismatched)
              + (unknownFails ? "; unexpected keys: " + ignored : "")
              + " (nothing was loaded)");
    }
    Map<String, HostTensor> toLoad = new LinkedHashMap<>();
    for (String key : own.keySet()) {
      Source src = usable.get(key);
      if (src != null) {
        toLoad.put(key, src.host().get());
      }
    }
    target.loadHostStateDict(toLoad, false);
    List<String> recomputed = own.keySet().stream().filter(p.recomputed()::contains).toList();
    LOG.log(
        System.Logger.Level.DEBUG,
        "{0} from {1} [{2}]: loaded {3} tensors, recomputed {4} ({5} present in the "
            + "file, not used), ignored {6} unknown keys, renamed {7}",
        p.model(),
        file,
        entry,
        toLoad.size(),
        recomputed.size(),
        recomputedInFile,
        ignored.size(),
        renamed);
    if (!ignored.isEmpty()) {
      LOG.log(
          System.Logger.Level.DEBUG,
          "{0} from {1} [{2}]: ignored keys {3}",
          p.model(),
          file,
          entry,
          ignored);
    }
    List<String> left =
        own.keySet().stream()
            .filter(k -> !toLoad.containsKey(k) && !p.recomputed().contains(k))
            .toList();
    return new LoadReport(
        file, entry, new ArrayList<>(toLoad.keySet()), recomputed, ignored, renamed, left);
  }
}
