package dev.rectok.models.dinov3;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.models.ModelFile;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.io.CheckpointFormatException;
import dev.rectok.torch.io.HostTensor;
import dev.rectok.torch.io.PthCheckpoint;
import dev.rectok.torch.io.PthReader;
import dev.rectok.torch.io.PthTensor;
import dev.rectok.torch.io.SafeTensorsFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads DINOv3 weights from the two published layouts, and reads and writes the SDK's teacher model
 * file. Each layout is a thin policy that renames into the official state dict:
 *
 * <ul>
 *   <li>{@link Layout#OFFICIAL}: the official checkpoint ({@code
 *       dinov3_vitl16_pretrain_lvd1689m-8aa4cbdd.pth}, read with the restricted unpickler, or the
 *       same keys in a safetensors file) — loaded as is; {@code rope_embed.periods} is recomputed
 *       from the configuration and checked against the stored one (a mismatch means the
 *       configuration is wrong);
 *   <li>{@link Layout#TRANSFORMERS}: {@code model.safetensors} of the Hugging Face repository
 *       ({@code embeddings.*}, {@code layer.N.*}, {@code norm.*}): q, k and v projections are fused
 *       into {@code qkv} with a zero k bias and the {@code bias_mask} [1, 0, 1];
 *   <li>{@link Layout#MODEL_FILE}: our self-describing file ({@code rectok.kind} = {@code teacher},
 *       config {@code {"architecture": "dinov3", "constructor_kwargs": {...}}}), official names.
 * </ul>
 *
 * Loading never executes code, and every tensor is checked by name and shape before anything is
 * copied. The configuration comes, in order, from the caller, the model file, a transformers {@code
 * config.json} next to the weights, or the shapes (heads from the stored RoPE periods, or from the
 * released widths 384/768/1024).
 *
 * <p>Stateless and thread-safe.
 */
public final class DinoV3Weights {
  /** The {@code architecture} value in a teacher model file's config. */
  public static final String ARCHITECTURE = "dinov3";

  /** Official checkpoint of the RecTok teacher. */
  public static final String OFFICIAL_FILE = "dinov3_vitl16_pretrain_lvd1689m-8aa4cbdd.pth";

  /** Hugging Face repository of the RecTok teacher (transformers layout). */
  public static final String HF_REPOSITORY = "facebook/dinov3-vitl16-pretrain-lvd1689m";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern HF_LAYER = Pattern.compile("layer\\.(\\d+)\\.(.+)");
  private static final Pattern BLOCK = Pattern.compile("blocks\\.(\\d+)\\..+");

  private DinoV3Weights() {}

  /** The weight layouts this class reads. */
  public enum Layout {
    OFFICIAL,
    TRANSFORMERS,
    MODEL_FILE
  }

  /**
   * What {@link #where()} says when a teacher file is missing: both file names and where they are
   * published.
   */
  public static String where() {
    return "the DINOv3 ViT-L/16 teacher is published as "
        + OFFICIAL_FILE
        + " (official layout; https://github.com/facebookresearch/dinov3, download link by request from Meta) and as"
        + " model.safetensors (transformers layout) in the Hugging Face repository "
        + HF_REPOSITORY
        + " (https://huggingface.co/"
        + HF_REPOSITORY
        + ", gated: accept the license). Download one on a machine"
        + " with network access and pass its path; the SDK never downloads anything";
  }

  /** Whether a model-file config describes a DINOv3 teacher. */
  public static boolean isDinoV3Config(JsonNode config) {
    return config != null && ARCHITECTURE.equals(config.path("architecture").asText());
  }

  /**
   * Loads a DINOv3 from any of the three layouts; the model is frozen, in eval mode, on the CPU,
   * and owned by the caller.
   *
   * @param config the architecture, or null to take it from the file (see the class comment)
   * @throws NoSuchFileException naming both published files when {@code file} does not exist
   * @throws CheckpointFormatException when the file is not DINOv3 weights or does not fit the
   *     config
   */
  public static DinoV3 load(Path file, DinoV3Config config) throws IOException {
    if (!Files.exists(file)) {
      throw new NoSuchFileException(file.toString(), null, "no such file; " + where());
    }
    if (file.getFileName().toString().endsWith(".pth")
        || file.getFileName().toString().endsWith(".pt")) {
      try (PthCheckpoint ckpt = PthReader.read(file)) {
        Map<String, PthTensor> t;
        try {
          t = ckpt.tensors();
        } catch (IllegalArgumentException e) {
          throw new CheckpointFormatException(
              file + ": not a DINOv3 state dict: " + e.getMessage(), e);
        }
        Map<String, HostTensor> host = new LinkedHashMap<>();
        t.forEach((k, v) -> host.put(k, v.toHost()));
        return build(file, host, config, null);
      }
    }
    try (SafeTensorsFile f = ModelFile.open(file)) {
      JsonNode fileConfig = null;
      if (f.metadata().containsKey(ModelFile.KIND)) {
        ModelFile.Header h = ModelFile.header(f);
        if (!"teacher".equals(h.kind()) || !isDinoV3Config(h.config())) {
          throw new CheckpointFormatException(
              file
                  + " holds a "
                  + h.kind()
                  + " model file"
                  + (h.config().has("architecture")
                      ? " (" + h.config().get("architecture").asText() + ")"
                      : "")
                  + ", not a DINOv3 teacher");
        }
        fileConfig = h.config().get("constructor_kwargs");
      }
      return build(file, f.all(), config, fileConfig);
    }
  }

  /** Which layout a set of tensor names is in; a {@link CheckpointFormatException} when neither. */
  public static Layout layoutOf(Path file, Iterable<String> names)
      throws CheckpointFormatException {
    for (String n : names) {
      if (n.equals("embeddings.cls_token")) {
        return Layout.TRANSFORMERS;
      }
      if (n.equals("cls_token")) {
        return Layout.OFFICIAL;
      }
    }
    throw new CheckpointFormatException(
        file
            + " holds no DINOv3 weights: neither 'cls_token' (official layout) nor"
            + " 'embeddings.cls_token' (transformers layout) is present; "
            + where());
  }

  private static DinoV3 build(
      Path file, Map<String, HostTensor> host, DinoV3Config config, JsonNode fileKwargs)
      throws IOException {
    Layout layout = layoutOf(file, host.keySet());
    DinoV3Config c = config;
    try {
      if (c == null && fileKwargs != null) {
        c = DinoV3Config.fromConstructorKwargs(fileKwargs);
      }
      if (c == null) {
        c = layout == Layout.OFFICIAL ? inferOfficial(file, host) : inferTransformers(file, host);
      }
    } catch (IllegalArgumentException e) {
      throw new CheckpointFormatException(file + ": " + e.getMessage(), e);
    }
    DinoV3 model = new DinoV3(c);
    try (Scope s = Scope.open()) {
      Map<String, Tensor> state =
          layout == Layout.OFFICIAL ? official(file, host, c) : fromTransformers(host, c);
      model.loadStateDict(state, true);
      return model;
    } catch (IllegalArgumentException e) {
      model.close();
      throw new CheckpointFormatException(
          file
              + " ("
              + layout
              + " layout) does not fit the DINOv3 config "
              + c.toConstructorKwargs()
              + ": "
              + e.getMessage(),
          e);
    } catch (RuntimeException | IOException e) {
      model.close();
      throw e;
    }
  }

  /** The official layout: everything as stored, except the periods, recomputed and compared. */
  private static Map<String, Tensor> official(
      Path file, Map<String, HostTensor> host, DinoV3Config c) throws CheckpointFormatException {
    Map<String, Tensor> out = new LinkedHashMap<>();
    host.forEach((k, v) -> out.put(k, Tensor.fromHost(v)));
    Tensor stored = out.get("rope_embed.periods");
    Tensor periods = DinoV3Rope.periods(c);
    if (stored != null) {
      double err =
          stored.to(dev.rectok.api.DType.FLOAT32).sub(periods).abs().div(periods).max().item();
      if (!(err <= 1e-5)) {
        throw new CheckpointFormatException(
            file
                + ": the stored rope_embed.periods differ from those of the config "
                + c.toConstructorKwargs()
                + " (max relative difference "
                + err
                + "): give the right configuration");
      }
    }
    out.put("rope_embed.periods", periods);
    return out;
  }

  /**
   * The transformers layout renamed into the official one; q/k/v fused with a masked (zero) k bias.
   */
  static Map<String, Tensor> fromTransformers(Map<String, HostTensor> hf, DinoV3Config c) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    Function<String, Tensor> get =
        k -> {
          HostTensor h = hf.get(k);
          if (h == null) {
            throw new IllegalArgumentException("missing tensor '" + k + "' (transformers layout)");
          }
          return Tensor.fromHost(h);
        };
    for (Map.Entry<String, HostTensor> e : hf.entrySet()) {
      String k = e.getKey();
      String mapped =
          switch (k) {
            case "embeddings.cls_token" -> "cls_token";
            case "embeddings.register_tokens" -> "storage_tokens";
            case "embeddings.patch_embeddings.weight" -> "patch_embed.proj.weight";
            case "embeddings.patch_embeddings.bias" -> "patch_embed.proj.bias";
            case "norm.weight", "norm.bias" -> k;
            default -> null;
          };
      if (k.equals("embeddings.mask_token")) {
        out.put("mask_token", Tensor.fromHost(e.getValue()).reshape(1, c.embedDim()));
        continue;
      }
      if (mapped != null) {
        out.put(mapped, Tensor.fromHost(e.getValue()));
        continue;
      }
      Matcher m = HF_LAYER.matcher(k);
      if (!m.matches()) {
        out.put(k, Tensor.fromHost(e.getValue())); // reported as unexpected by the strict load
        continue;
      }
      String p = "blocks." + m.group(1) + ".";
      String rest = m.group(2);
      String r =
          switch (rest) {
            case "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias" -> rest;
            case "attention.o_proj.weight" -> "attn.proj.weight";
            case "attention.o_proj.bias" -> "attn.proj.bias";
            case "layer_scale1.lambda1" -> "ls1.gamma";
            case "layer_scale2.lambda1" -> "ls2.gamma";
            case "mlp.up_proj.weight" -> "mlp.fc1.weight";
            case "mlp.up_proj.bias" -> "mlp.fc1.bias";
            case "mlp.down_proj.weight" -> "mlp.fc2.weight";
            case "mlp.down_proj.bias" -> "mlp.fc2.bias";
            default ->
                rest.startsWith("attention.")
                        && rest.matches("attention\\.[qkv]_proj\\.(weight|bias)")
                    ? ""
                    : null;
          };
      if (r == null) {
        out.put(k, Tensor.fromHost(e.getValue()));
      } else if (!r.isEmpty()) {
        out.put(p + r, Tensor.fromHost(e.getValue()));
      }
    }
    for (int i = 0; ; i++) {
      String a = "layer." + i + ".attention.";
      if (!hf.containsKey(a + "q_proj.weight")) {
        break;
      }
      String p = "blocks." + i + ".attn.qkv.";
      out.put(
          p + "weight",
          Tensor.cat(
              new Tensor[] {
                get.apply(a + "q_proj.weight"),
                get.apply(a + "k_proj.weight"),
                get.apply(a + "v_proj.weight")
              },
              0));
      if (c.qkvBias()) {
        Tensor q = get.apply(a + "q_proj.bias");
        Tensor k =
            hf.containsKey(a + "k_proj.bias")
                ? get.apply(a + "k_proj.bias")
                : Tensor.zeros(q.shape()).to(q.dtype());
        out.put(p + "bias", Tensor.cat(new Tensor[] {q, k, get.apply(a + "v_proj.bias")}, 0));
        if (c.maskKBias()) {
          long d = c.embedDim();
          out.put(
              p + "bias_mask",
              Tensor.cat(new Tensor[] {Tensor.ones(d), Tensor.zeros(d), Tensor.ones(d)}, 0));
        }
      }
    }
    out.put("rope_embed.periods", DinoV3Rope.periods(c));
    return out;
  }

  /** The architecture of official-layout weights from their shapes. */
  static DinoV3Config inferOfficial(Path file, Map<String, HostTensor> t)
      throws CheckpointFormatException {
    long[] cls = shape(file, t, "cls_token");
    int d = (int) cls[cls.length - 1];
    int depth = depth(t, BLOCK);
    long[] pe = shape(file, t, "patch_embed.proj.weight");
    int storage = t.containsKey("storage_tokens") ? (int) t.get("storage_tokens").shape()[1] : 0;
    int heads;
    if (t.containsKey("rope_embed.periods")) {
      long n = t.get("rope_embed.periods").shape()[0];
      heads = (int) (d / (4 * n));
    } else {
      heads = releasedHeads(file, d);
    }
    long ffn = shape(file, t, "blocks.0.mlp.fc1.weight")[0];
    return new DinoV3Config(
        (int) pe[2],
        (int) pe[1],
        100.0,
        Double.NaN,
        Double.NaN,
        "separate",
        d,
        depth,
        heads,
        (double) ffn / d,
        t.containsKey("blocks.0.attn.qkv.bias"),
        t.containsKey("blocks.0.attn.proj.bias"),
        t.containsKey("blocks.0.mlp.fc1.bias"),
        t.containsKey("blocks.0.ls1.gamma") ? 1e-5 : Double.NaN,
        1e-5,
        storage,
        t.containsKey("blocks.0.attn.qkv.bias_mask"));
  }

  /**
   * The architecture of transformers-layout weights: from the repository's {@code config.json} next
   * to the file when there is one ({@code model_type} {@code dinov3_vit}), else from the shapes.
   */
  static DinoV3Config inferTransformers(Path file, Map<String, HostTensor> t) throws IOException {
    Path cfg =
        file.toAbsolutePath().getParent() == null
            ? null
            : file.toAbsolutePath().getParent().resolve("config.json");
    if (cfg != null && Files.isRegularFile(cfg)) {
      JsonNode j = JSON.readTree(cfg.toFile());
      if ("dinov3_vit".equals(j.path("model_type").asText())) {
        if (j.path("use_gated_mlp").asBoolean(false)) {
          throw new CheckpointFormatException(
              cfg + ": use_gated_mlp (SwiGLU) variants are not supported");
        }
        int d = j.path("hidden_size").asInt();
        return new DinoV3Config(
            j.path("patch_size").asInt(16),
            j.path("num_channels").asInt(3),
            j.path("rope_theta").asDouble(100.0),
            Double.NaN,
            Double.NaN,
            "separate",
            d,
            j.path("num_hidden_layers").asInt(),
            j.path("num_attention_heads").asInt(),
            (double) j.path("intermediate_size").asInt(4 * d) / d,
            j.path("query_bias").asBoolean(true),
            j.path("proj_bias").asBoolean(true),
            j.path("mlp_bias").asBoolean(true),
            j.path("layerscale_value").asDouble(1e-5),
            j.path("layer_norm_eps").asDouble(1e-5),
            j.path("num_register_tokens").asInt(0),
            !j.path("key_bias").asBoolean(false));
      }
    }
    long[] cls = shape(file, t, "embeddings.cls_token");
    int d = (int) cls[cls.length - 1];
    long[] pe = shape(file, t, "embeddings.patch_embeddings.weight");
    int storage =
        t.containsKey("embeddings.register_tokens")
            ? (int) t.get("embeddings.register_tokens").shape()[1]
            : 0;
    long ffn = shape(file, t, "layer.0.mlp.up_proj.weight")[0];
    return new DinoV3Config(
        (int) pe[2],
        (int) pe[1],
        100.0,
        Double.NaN,
        Double.NaN,
        "separate",
        d,
        depth(t, HF_LAYER),
        releasedHeads(file, d),
        (double) ffn / d,
        t.containsKey("layer.0.attention.q_proj.bias"),
        t.containsKey("layer.0.attention.o_proj.bias"),
        t.containsKey("layer.0.mlp.up_proj.bias"),
        t.containsKey("layer.0.layer_scale1.lambda1") ? 1e-5 : Double.NaN,
        1e-5,
        storage,
        !t.containsKey("layer.0.attention.k_proj.bias"));
  }

  private static int releasedHeads(Path file, int d) throws CheckpointFormatException {
    return switch (d) {
      case 384 -> 6;
      case 768 -> 12;
      case 1024 -> 16;
      default ->
          throw new CheckpointFormatException(
              file
                  + ": width "
                  + d
                  + " is not a released DINOv3 width"
                  + " (384, 768, 1024) and the file does not say its head count: give the configuration explicitly");
    };
  }

  private static int depth(Map<String, HostTensor> t, Pattern p) {
    int depth = 0;
    for (String k : t.keySet()) {
      Matcher m = p.matcher(k);
      if (m.matches()) {
        depth = Math.max(depth, Integer.parseInt(m.group(1)) + 1);
      }
    }
    return depth;
  }

  private static long[] shape(Path file, Map<String, HostTensor> t, String name)
      throws CheckpointFormatException {
    HostTensor h = t.get(name);
    if (h == null) {
      throw new CheckpointFormatException(file + ": missing tensor '" + name + "'");
    }
    return h.shape();
  }

  /**
   * The model-file config of a DINOv3: {@code {"architecture": "dinov3", "constructor_kwargs":
   * {...}}}.
   */
  public static ObjectNode modelFileConfig(DinoV3Config c) {
    ObjectNode o = JSON.createObjectNode().put("architecture", ARCHITECTURE);
    o.set("constructor_kwargs", c.toConstructorKwargs());
    return o;
  }

  /** Writes {@code model} (borrowed) as a teacher model file, atomically. */
  public static void save(DinoV3 model, Path file) throws IOException {
    ModelFile.write(
        file, "teacher", modelFileConfig(model.config()), model.stateDict(), null, null);
  }
}
