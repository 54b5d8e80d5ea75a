package dev.rectok.models.dit;

import dev.rectok.torch.Tensor;
import dev.rectok.torch.io.HostTensor;
import dev.rectok.torch.io.PthCheckpoint;
import dev.rectok.torch.io.PthReader;
import dev.rectok.torch.io.PthTensor;
import dev.rectok.torch.io.SafeTensors;
import dev.rectok.torch.io.SafeTensorsFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads DiT^DH weights the way the reference's generator pipeline does: from a {@code .pth}
 * checkpoint take {@code model_ema} (the weights used for sampling), else {@code model}, else the
 * top-level dict; from {@code .safetensors} take every tensor. Every parameter of the network
 * must be present with its exact shape (a missing or mis-shaped key is an error that names it,
 * and nothing is loaded); the RoPE tables are recomputed, never loaded; other keys are ignored
 * and reported (SLF4J INFO with counts, DEBUG with the list).
 *
 * <p>Stateless and thread-safe itself; loading writes into the network, which must not be in
 * use meanwhile. The checkpoint files are closed before returning.
 */
public final class DiTCheckpoints {
  private static final Logger LOG = LoggerFactory.getLogger(DiTCheckpoints.class);

  private DiTCheckpoints() {}

  /**
   * What a load did.
   *
   * @param file the file read
   * @param entry the dict the weights came from: {@code model_ema}, {@code model}, {@code <root>}
   *     for a {@code .pth} top-level dict, {@code <safetensors>}
   * @param loaded keys copied into the network
   * @param recomputed network keys recomputed instead of loaded (whether the file had them or not)
   * @param ignored keys of the file the network does not have
   */
  public record LoadSummary(Path file, String entry, List<String> loaded, List<String> recomputed,
      List<String> ignored) {
    public LoadSummary {
      loaded = List.copyOf(loaded);
      recomputed = List.copyOf(recomputed);
      ignored = List.copyOf(ignored);
    }
  }

  /** Loads {@code file} ({@code .safetensors} by its extension, otherwise a {@code torch.save} zip). */
  public static LoadSummary load(DiTwDDTHead net, Path file) throws IOException {
    if (file.getFileName().toString().endsWith(".safetensors")) {
      return loadSafetensors(net, file);
    }
    return loadPth(net, file, null);
  }

  /**
   * Loads a {@code .pth} checkpoint. {@code entry} names the dict to use ({@code "model"},
   * {@code "model_ema"}); null applies the pipeline's rule ({@code model_ema}, else
   * {@code model}, else the top-level dict).
   */
  public static LoadSummary loadPth(DiTwDDTHead net, Path file, String entry) throws IOException {
    try (PthCheckpoint ckpt = PthReader.read(file)) {
      String chosen = entry;
      if (chosen == null) {
        Set<String> top = ckpt.topLevelKeys();
        chosen = isDict(ckpt, "model_ema") ? "model_ema" : isDict(ckpt, "model") ? "model" : null;
        if (chosen == null && top.isEmpty()) {
          throw new IllegalArgumentException(file + ": the checkpoint is not a dict");
        }
      }
      Map<String, PthTensor> tensors = chosen == null ? ckpt.tensors() : ckpt.tensors(chosen);
      Map<String, Source> sources = new LinkedHashMap<>();
      tensors.forEach((k, t) -> sources.put(k, new Source(t.shape(), t::toHost)));
      return apply(net, file, chosen == null ? "<root>" : chosen, sources);
    }
  }

  /** Loads a safetensors file (e.g. the {@code model_ema} dict written as safetensors). */
  public static LoadSummary loadSafetensors(DiTwDDTHead net, Path file) throws IOException {
    try (SafeTensorsFile st = SafeTensors.open(file)) {
      Map<String, Source> sources = new LinkedHashMap<>();
      for (String name : st.names()) {
        sources.put(name, new Source(st.info(name).shape(), () -> st.get(name)));
      }
      return apply(net, file, "<safetensors>", sources);
    }
  }

  private static boolean isDict(PthCheckpoint ckpt, String key) {
    return ckpt.root() instanceof Map<?, ?> m && m.get(key) instanceof Map<?, ?>;
  }

  /** A tensor of the file: its shape up front, its bytes only when needed. */
  private record Source(long[] shape, java.util.function.Supplier<HostTensor> host) {}

  private static LoadSummary apply(DiTwDDTHead net, Path file, String entry, Map<String, Source> state) {
    Set<String> recomputable = Set.copyOf(net.recomputedKeys());
    Map<String, Tensor> own = net.stateDict();
    List<String> missing = new ArrayList<>();
    List<String> mismatched = new ArrayList<>();
    Map<String, HostTensor> toLoad = new LinkedHashMap<>();
    for (var e : own.entrySet()) {
      String key = e.getKey();
      if (recomputable.contains(key)) {
        continue;
      }
      Source src = state.get(key);
      if (src == null) {
        missing.add(key);
      } else if (!Arrays.equals(src.shape(), e.getValue().shape())) {
        mismatched.add(key + " (file " + Arrays.toString(src.shape()) + ", network "
            + Arrays.toString(e.getValue().shape()) + ")");
      }
    }
    if (!missing.isEmpty() || !mismatched.isEmpty()) {
      throw new IllegalArgumentException(file + " [" + entry + "] does not fit " + describe(net)
          + (missing.isEmpty() ? "" : "; missing keys: " + missing)
          + (mismatched.isEmpty() ? "" : "; mis-shaped keys: " + mismatched) + " (nothing was loaded)");
    }
    for (String key : own.keySet()) {
      if (!recomputable.contains(key)) {
        toLoad.put(key, state.get(key).host().get());
      }
    }
    List<String> ignored = new ArrayList<>();
    for (String key : state.keySet()) {
      if (!own.containsKey(key)) {
        ignored.add(key);
      }
    }
    net.loadHostStateDict(toLoad, false);
    // The tables are functions of the configuration; recomputing them also repairs any value a
    // caller may have loaded into them through Module.loadStateDict.
    net.recomputeBuffers();
    List<String> recomputed = List.copyOf(net.recomputedKeys());
    long skippedFromFile = recomputed.stream().filter(state::containsKey).count();
    LOG.info("DiT weights from {} [{}]: loaded {} tensors, recomputed {} buffers ({} present in the file, not used), "
        + "ignored {} unknown keys", file, entry, toLoad.size(), recomputed.size(), skippedFromFile, ignored.size());
    if (!ignored.isEmpty()) {
      LOG.debug("DiT weights from {} [{}]: ignored keys {}", file, entry, ignored);
    }
    return new LoadSummary(file, entry, new ArrayList<>(toLoad.keySet()), recomputed, ignored);
  }

  private static String describe(DiTwDDTHead net) {
    DiTConfig c = net.config();
    return "DiTwDDTHead(hidden_size=" + c.hiddenSize() + ", depth=" + c.depth() + ", num_heads=" + c.numHeads()
        + ", token_channels=" + c.tokenChannels() + ", input_size=" + c.inputSize() + ")";
  }
}
