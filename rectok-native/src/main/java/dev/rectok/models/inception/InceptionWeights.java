package dev.rectok.models.inception;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.io.CheckpointFormatException;
import dev.rectok.torch.io.HostTensor;
import dev.rectok.torch.io.PthCheckpoint;
import dev.rectok.torch.io.PthReader;
import dev.rectok.torch.io.PthTensor;
import dev.rectok.torch.io.SafeTensors;
import dev.rectok.torch.io.SafeTensorsFile;
import dev.rectok.torch.nn.Module;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where the Inception weights come from: the user's torch-fidelity or pytorch-fid file (legacy or
 * zip {@code torch.save}, or the safetensors file {@code rectok convert --kind inception} writes),
 * or the seeded SplitMix64 recipe of the golden files (for tests: the real weights cannot be
 * downloaded here, and nothing is ever downloaded at run time). Stateless; thread-safe.
 */
public final class InceptionWeights {
  /** torch-fidelity's release file name. */
  public static final String TORCH_FIDELITY_FILE = "weights-inception-2015-12-05-6726825d.pth";

  /** pytorch-fid's release file name (same tensors, same keys). */
  public static final String PYTORCH_FID_FILE = "pt_inception-2015-12-05-6726825d.pth";

  /** {@code rectok.kind} of the converted safetensors file. */
  public static final String KIND = "inception";

  private InceptionWeights() {}

  /** The message for a missing weight file: both names and where they are published. */
  public static String missingFileMessage(Path file) {
    return "Inception weights not found at "
        + file
        + ". Download "
        + TORCH_FIDELITY_FILE
        + " (https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
        + TORCH_FIDELITY_FILE
        + ") or "
        + PYTORCH_FID_FILE
        + " (https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
        + PYTORCH_FID_FILE
        + ") on a machine with network access and pass its path; the SDK never downloads";
  }

  /**
   * Builds the network and loads {@code file}: every parameter and running statistic must be
   * present with the right shape ({@code num_batches_tracked} may be missing), nothing else may be.
   *
   * @throws NoSuchFileException with {@link #missingFileMessage} when the file does not exist
   * @throws CheckpointFormatException when the file is malformed or its keys do not match
   */
  public static InceptionV3 load(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(file.toString(), null, missingFileMessage(file));
    }
    InceptionV3 net = new InceptionV3();
    boolean ok = false;
    try {
      if (file.getFileName().toString().endsWith(".safetensors")) {
        try (SafeTensorsFile f = SafeTensors.open(file)) {
          String kind = f.metadata().get("rectok.kind");
          if (kind != null && !KIND.equals(kind)) {
            throw new CheckpointFormatException(
                file + " holds a " + kind + ", not Inception weights");
          }
          copy(net, file, f.all());
        }
      } else {
        try (PthCheckpoint c = PthReader.read(file);
            Arena arena = Arena.ofConfined()) {
          Map<String, PthTensor> tensors =
              c.topLevelKeys().contains("state_dict") ? c.tensors("state_dict") : c.tensors();
          Map<String, HostTensor> host = new LinkedHashMap<>();
          tensors.forEach((k, v) -> host.put(k, v.toHost(arena)));
          copy(net, file, host);
        }
      }
      ok = true;
      return net;
    } finally {
      if (!ok) {
        net.close();
      }
    }
  }

  private static void copy(Module net, Path file, Map<String, HostTensor> state)
      throws CheckpointFormatException {
    List<String> missing = new ArrayList<>();
    for (String k : net.stateDict().keySet()) {
      if (!state.containsKey(k) && !k.endsWith(".num_batches_tracked")) {
        missing.add(k);
      }
    }
    List<String> extra = new ArrayList<>();
    for (String k : state.keySet()) {
      if (!net.stateDict().containsKey(k)) {
        extra.add(k);
      }
    }
    if (!missing.isEmpty() || !extra.isEmpty()) {
      throw new CheckpointFormatException(
          file
              + " is not an InceptionV3 weight file of torch-fidelity's layout: "
              + (missing.isEmpty()
                  ? ""
                  : missing.size() + " keys missing (first " + missing.getFirst() + ") ")
              + (extra.isEmpty()
                  ? ""
                  : extra.size() + " unexpected keys (first " + extra.getFirst() + ")"));
    }
    try {
      net.loadHostStateDict(state, false);
    } catch (IllegalArgumentException e) {
      throw new CheckpointFormatException(file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The golden files' seeded weights: tensor {@code i} of the state dict (registration order,
   * {@code num_batches_tracked} skipped) draws from SplitMix64 seeded with {@code seed · 1000003 +
   * i}; each value is {@code offset + scale · (2u − 1)} in float64 with {@code u} the top 53 bits
   * over 2^53, rounded to float32. The offset and scale depend on the tensor's role (conv weight:
   * 0, √3·√(2/fan_in); bn weight: 1, 0.1; bn bias and running mean: 0, 0.1; running var: 1.125,
   * 0.125; fc weight: 0, 3√3/√2048; fc bias: 0, 0.5).
   */
  public static Map<String, float[]> recipe(InceptionV3 net, long seed) {
    Map<String, float[]> out = new LinkedHashMap<>();
    int index = 0;
    for (var e : net.stateDict().entrySet()) {
      String k = e.getKey();
      if (k.endsWith(".num_batches_tracked")) {
        continue;
      }
      long[] shape = e.getValue().shape();
      long numel = 1;
      for (long d : shape) {
        numel *= d;
      }
      double offset;
      double scale;
      if (k.endsWith(".conv.weight")) {
        offset = 0;
        scale = Math.sqrt(3) * Math.sqrt(2.0 / (shape[1] * shape[2] * shape[3]));
      } else if (k.endsWith(".bn.weight")) {
        offset = 1;
        scale = 0.1;
      } else if (k.endsWith(".bn.bias") || k.endsWith(".bn.running_mean")) {
        offset = 0;
        scale = 0.1;
      } else if (k.endsWith(".bn.running_var")) {
        offset = 1.125;
        scale = 0.125;
      } else if (k.equals("fc.weight")) {
        offset = 0;
        scale = Math.sqrt(3) * 3 / Math.sqrt(2048);
      } else if (k.equals("fc.bias")) {
        offset = 0;
        scale = 0.5;
      } else {
        throw new IllegalStateException("no recipe rule for " + k);
      }
      float[] v = new float[Math.toIntExact(numel)];
      long state = seed * 1000003L + index;
      for (int i = 0; i < v.length; i++) {
        state += 0x9E3779B97F4A7C15L;
        long z = state;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        double u = (z >>> 11) * 0x1.0p-53;
        v[i] = (float) (offset + scale * (2 * u - 1));
      }
      out.put(k, v);
      index++;
    }
    return out;
  }

  /** A network with the recipe's weights for {@code seed} (the golden case uses 7001). */
  public static InceptionV3 fromRecipe(long seed) {
    InceptionV3 net = new InceptionV3();
    try (Scope s = Scope.open();
        var g = dev.rectok.torch.GradMode.noGrad()) {
      Map<String, Tensor> sd = net.stateDict();
      recipe(net, seed)
          .forEach(
              (k, v) -> {
                Tensor dst = sd.get(k);
                dst.copy_(Tensor.of(v, dst.shape()));
              });
    }
    return net;
  }

  /**
   * Writes {@code net}'s weights as a safetensors file with {@code rectok.kind = inception} (what
   * {@code rectok convert --kind inception} produces), atomically.
   */
  public static void save(InceptionV3 net, Path file, Map<String, String> extraMetadata)
      throws IOException {
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("rectok.format", "1");
    meta.put("rectok.kind", KIND);
    meta.putAll(extraMetadata);
    try (Arena arena = Arena.ofConfined()) {
      Map<String, HostTensor> host = new LinkedHashMap<>();
      net.stateDict()
          .forEach(
              (k, v) -> {
                if (!k.endsWith(".num_batches_tracked")) {
                  host.put(k, v.toHost(arena));
                }
              });
      SafeTensors.write(file, host, meta);
    }
  }
}
