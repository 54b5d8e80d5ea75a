package dev.rectok.generate.golden;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rectok.api.DType;
import dev.rectok.generate.transport.Guidance;
import dev.rectok.generate.transport.Sampler;
import dev.rectok.generate.transport.TimeGrid;
import dev.rectok.generate.transport.VelocityModel;
import dev.rectok.image.AdmPreprocess;
import dev.rectok.image.RgbImage;
import dev.rectok.models.dit.DiTCheckpoints;
import dev.rectok.models.dit.DiTConfig;
import dev.rectok.models.dit.DiTTables;
import dev.rectok.models.dit.DiTwDDTHead;
import dev.rectok.models.golden.GoldenCase;
import dev.rectok.models.tokenizer.RecTok;
import dev.rectok.models.tokenizer.RecTokConfig;
import dev.rectok.models.tokenizer.TokenizerCheckpoints;
import dev.rectok.models.tokenizer.TokenizerRope;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Replays a golden folder with the SDK and compares everything it can produce: the engine of {@code
 * rectok check-golden}. It dispatches on {@code config.json}'s {@code case}; sizes come only from
 * the folder, so any folder in the format replays without code changes. Stateless; thread-safe
 * (each call owns what it builds).
 */
public final class GoldenReplay {
  private static final ObjectMapper JSON = new ObjectMapper();

  private GoldenReplay() {}

  /** One compared quantity. */
  public record Check(String name, String detail, boolean passed) {
    /** A comparison within relative tolerance {@code tolerance}. */
    public static Check of(GoldenCase.Comparison c, double tolerance) {
      return new Check(
          c.name(),
          String.format(
              "rel %.3e  max abs %.3e  (tol %.0e)%s",
              c.relError(), c.maxAbsError(), tolerance, c.shapeMatches() ? "" : "  SHAPE MISMATCH"),
          c.passes(tolerance));
    }

    @Override
    public String toString() {
      return String.format("%-4s %-44s %s", passed ? "ok" : "FAIL", name, detail);
    }
  }

  /** The outcome for one folder; {@code unsupported} names what this build cannot replay yet. */
  public record Result(Path dir, String kind, List<Check> checks, List<String> unsupported) {
    /** True when every check passed and nothing was left unreplayed. */
    public boolean passed() {
      return !checks.isEmpty() && unsupported.isEmpty() && checks.stream().allMatch(Check::passed);
    }
  }

  /**
   * Replays one case kind: appends a {@link Check} per compared tensor and names every reference
   * tensor it could not produce in {@code unsupported}. Modules above this one contribute replayers
   * for what they implement (training: case2) through {@link #run(Path, Map)}.
   */
  @FunctionalInterface
  public interface Replayer {
    void replay(Path dir, List<Check> checks, List<String> unsupported) throws IOException;
  }

  private static final Map<String, Replayer> REPLAYERS = new LinkedHashMap<>();
  private static final Pattern TOK_ROPE =
      Pattern.compile("table\\.tok_rope_hd(\\d+)_(\\d+)x(\\d+)");

  static {
    REPLAYERS.put("case1_tokenizer_inference", GoldenReplay::tokenizerInference);
    REPLAYERS.put("case3_dit_forward", GoldenReplay::ditForward);
    REPLAYERS.put("case3b_dit_sampling", GoldenReplay::ditSampling);
    REPLAYERS.put("case4_tables", GoldenReplay::tables);
    REPLAYERS.put("case5_preprocess", GoldenReplay::preprocess);
    REPLAYERS.put("case6_manifests", GoldenReplay::manifests);
    // --- issue 12: DINOv3 teacher (both weight layouts and RecTok's image path) ---
    REPLAYERS.put(
        dev.rectok.models.dinov3.DinoV3Golden.CASE,
        (dir, checks, unsupported) ->
            dev.rectok.models.dinov3.DinoV3Golden.replay(dir)
                .forEach(c -> checks.add(new Check(c.name(), c.detail(), c.passed()))));
  }

  /** Replays the folder {@code dir} with this module's replayers. */
  public static Result run(Path dir) throws IOException {
    return run(dir, Map.of());
  }

  /** Replays {@code dir} with this module's replayers plus {@code more} (by case kind). */
  public static Result run(Path dir, Map<String, Replayer> more) throws IOException {
    List<Check> checks = new ArrayList<>();
    List<String> unsupported = new ArrayList<>();
    String kind = kindOf(dir);
    Map<String, Replayer> all = new LinkedHashMap<>(REPLAYERS);
    all.putAll(more);
    Replayer r = all.get(kind);
    if (r == null) {
      unsupported.add("case kind '" + kind + "' (this build replays " + all.keySet() + ")");
    } else {
      r.replay(dir, checks, unsupported);
    }
    return new Result(dir, kind, checks, unsupported);
  }

  private static String kindOf(Path dir) throws IOException {
    Path cfg = dir.resolve("config.json");
    if (Files.isRegularFile(cfg)) {
      // --- issue 10: a malformed config.json is an error naming it, not "case kind ''" ---
      JsonNode root;
      try {
        root = JSON.readTree(cfg.toFile());
      } catch (com.fasterxml.jackson.core.JacksonException e) {
        throw new IOException(cfg + " is not valid JSON: " + e.getOriginalMessage(), e);
      }
      String kind = root == null ? "" : root.path("case").asText();
      if (kind.isEmpty()) {
        throw new IOException(cfg + " has no \"case\" field naming the kind of golden case");
      }
      return kind;
    }
    if (Files.isRegularFile(dir.resolve("summary.json"))) {
      return "case6_manifests"; // the manifest folder has no config.json
    }
    throw new IOException(dir + " is not a golden folder: no config.json (or summary.json)");
  }

  private static double tolerance(GoldenCase g, double fallback) {
    JsonNode t = g.config().get("tolerance_rel");
    return t != null && t.isNumber() ? t.asDouble() : fallback;
  }

  /**
   * case1: the tokenizer in eval mode, call by call as the reference's test sequence; every output
   * and debug tensor.
   */
  private static void tokenizerInference(Path dir, List<Check> checks, List<String> unsupported)
      throws IOException {
    try (GoldenCase g = GoldenCase.open(dir);
        RecTok tok = new RecTok(RecTokConfig.fromGoldenConfig(g.config()))) {
      TokenizerCheckpoints.load(tok, g.file("weights.pth"));
      tok.eval();
      double tol = tolerance(g, 1e-4);
      try (Scope s = Scope.open();
          GradMode m = GradMode.inferenceMode()) {
        Tensor x = g.tensor("input.image");
        tok.resetStats(g.tensor("input.latent_mean"), g.tensor("input.latent_std"));
        Map<String, Tensor> out = new LinkedHashMap<>();
        List<Tensor> copies = new ArrayList<>();
        // Probed activations live in the modules' own inner scopes: copy them out, and free the
        // copies below.
        java.util.function.UnaryOperator<Tensor> copy =
            t -> {
              Tensor c = t.clone().escape();
              copies.add(c);
              return c;
            };
        out.put(
            "output.z_full",
            tok.encoder().forward(x, (n, t) -> out.put("debug.encoder." + n, copy.apply(t))));
        try (RecTok.Encoding enc = tok.encode(x, false, null)) {
          out.put("output.posterior_mean", enc.zLatents().clone());
          out.put("output.posterior_logvar", enc.posterior().logvar().clone());
          out.put("output.posterior_std", enc.posterior().std().clone());
          out.put(
              "output.decoder_out",
              tok.decoderModule()
                  .forward(
                      enc.zLatents(),
                      null,
                      (n, t) -> out.put("debug.decoder." + n, copy.apply(t))));
        }
        Tensor tokens = tok.tokenize(x);
        out.put("output.tokens", tokens);
        out.put("output.detokenized", tok.detokenize(tokens));
        Tensor rec = tok.reconstruct(x);
        out.put("output.reconstruction", rec);
        out.put("output.reconstruction_uint8", RecTok.toUint8(rec));
        for (var e : out.entrySet()) {
          if (!g.has(e.getKey())) {
            continue;
          }
          GoldenCase.Comparison c = g.compare(e.getKey(), e.getValue());
          if (e.getKey().endsWith("_uint8")) {
            checks.add(
                new Check(
                    c.name(),
                    String.format("max abs %.0f (<= 1 allowed)", c.maxAbsError()),
                    c.shapeMatches() && c.maxAbsError() <= 1));
          } else {
            checks.add(Check.of(c, tol));
          }
        }
        copies.forEach(Tensor::close);
      }
      if (Files.isRegularFile(g.file("weights.safetensors"))) {
        TokenizerCheckpoints.load(tok, g.file("weights.safetensors"));
        try (Scope s = Scope.open();
            GradMode m = GradMode.inferenceMode()) {
          checks.add(
              twin(
                  g.compare("output.reconstruction", tok.reconstruct(g.tensor("input.image"))),
                  tol));
        }
      }
      unreplayed(g, checks, unsupported);
    }
  }

  /** A check repeated with the weights read from the folder's weights.safetensors. */
  private static Check twin(GoldenCase.Comparison c, double tol) {
    Check k = Check.of(c, tol);
    return new Check(c.name() + " [safetensors]", k.detail(), k.passed());
  }

  /** Index tensors and counts must match exactly. */
  public static void exact(GoldenCase g, List<Check> checks, String name, Tensor actual) {
    GoldenCase.Comparison c = g.compare(name, actual);
    checks.add(
        new Check(
            name,
            String.format("max abs %.3g (exact required)", c.maxAbsError()),
            c.shapeMatches() && c.maxAbsError() == 0));
  }

  /**
   * case3: {@code net(x, t, y)} with the {@code model_ema} weights; every output and debug tensor.
   */
  private static void ditForward(Path dir, List<Check> checks, List<String> unsupported)
      throws IOException {
    try (GoldenCase g = GoldenCase.open(dir);
        DiTwDDTHead net = new DiTwDDTHead(DiTConfig.fromConstructorKwargs(g.config()))) {
      DiTCheckpoints.load(net, g.file("weights.pth"));
      net.eval();
      double tol = tolerance(g, 1e-4);
      try (Scope s = Scope.open();
          GradMode m = GradMode.inferenceMode()) {
        Tensor v =
            net.forward(
                g.tensor("input.x"),
                g.tensor("input.t"),
                g.tensor("input.y"),
                null,
                (name, value) -> {
                  if (g.has("debug." + name)) {
                    checks.add(Check.of(g.compare("debug." + name, value), tol));
                  }
                });
        checks.add(Check.of(g.compare("output.velocity", v), tol));
      }
      if (Files.isRegularFile(g.file("weights.safetensors"))) {
        DiTCheckpoints.load(net, g.file("weights.safetensors"));
        try (Scope s = Scope.open();
            GradMode m = GradMode.inferenceMode()) {
          checks.add(
              twin(
                  g.compare(
                      "output.velocity",
                      net.forward(g.tensor("input.x"), g.tensor("input.t"), g.tensor("input.y"))),
                  tol));
        }
      }
      unreplayed(g, checks, unsupported);
    }
  }

  /** case4: RoPE, sincos, sampler-grid and linspace tables. */
  private static void tables(Path dir, List<Check> checks, List<String> unsupported)
      throws IOException {
    try (GoldenCase g = GoldenCase.open(dir)) {
      double tol = tolerance(g, 1e-6);
      g.config()
          .get("dit_rope")
          .properties()
          .forEach(
              e -> {
                int headDim = e.getValue().get("head_dim").asInt();
                int n = e.getValue().get("pt_seq_len").asInt();
                try (Scope s = Scope.open()) {
                  checks.add(
                      Check.of(
                          g.compare(
                              "table." + e.getKey() + ".freqs_cos", DiTTables.ropeCos(headDim, n)),
                          tol));
                  checks.add(
                      Check.of(
                          g.compare(
                              "table." + e.getKey() + ".freqs_sin", DiTTables.ropeSin(headDim, n)),
                          tol));
                }
              });
      g.config()
          .get("sincos")
          .properties()
          .forEach(
              e -> {
                int dim = e.getValue().get("embed_dim").asInt();
                int grid = e.getValue().get("grid_size").asInt();
                try (Scope s = Scope.open()) {
                  checks.add(
                      Check.of(
                          g.compare(
                              "table." + e.getKey() + ".float32",
                              DiTTables.sincosPosEmbedTensor(dim, grid)),
                          tol));
                  String f64 = "table." + e.getKey() + ".float64";
                  if (g.has(f64)) {
                    checks.add(
                        Check.of(
                            g.compare(
                                f64,
                                Tensor.of(
                                    DiTTables.sincosPosEmbed(dim, grid), (long) grid * grid, dim)),
                            tol));
                  }
                }
              });
      for (String n : g.names()) {
        Matcher m = TOK_ROPE.matcher(n);
        if (m.matches()) {
          try (Scope s = Scope.open()) {
            checks.add(
                Check.of(
                    g.compare(
                        n,
                        TokenizerRope.table(
                            Integer.parseInt(m.group(1)),
                            Integer.parseInt(m.group(2)),
                            Integer.parseInt(m.group(3)))),
                    tol));
          }
        }
      }
      g.config()
          .get("grids")
          .properties()
          .forEach(
              e -> {
                float[] grid =
                    TimeGrid.samplerGrid(
                        e.getValue().get("num_steps").asInt(),
                        e.getValue().get("timestep_shift").asDouble());
                try (Scope s = Scope.open()) {
                  checks.add(Check.of(g.compare("table." + e.getKey(), Tensor.of(grid)), tol));
                }
              });
      g.config()
          .get("linspace")
          .properties()
          .forEach(
              e -> {
                try (Scope s = Scope.open()) {
                  checks.add(
                      Check.of(
                          g.compare(
                              "table." + e.getKey(),
                              Tensor.of(
                                  TimeGrid.linspace(0f, 1f, e.getValue().get("steps").asInt()))),
                          tol));
                }
              });
      unreplayed(g, checks, unsupported);
    }
  }

  /** Names every non-input tensor of {@code g} that no check compared. */
  public static void unreplayed(GoldenCase g, List<Check> checks, List<String> unsupported) {
    for (String n : g.names()) {
      if (!n.startsWith("input.") && checks.stream().noneMatch(c -> c.name().equals(n))) {
        unsupported.add(n);
      }
    }
  }

  /** case3b: Euler sampling without guidance, with AutoGuidance (a second DiT) and with CFG. */
  private static void ditSampling(Path dir, List<Check> checks, List<String> unsupported)
      throws IOException {
    try (GoldenCase g = GoldenCase.open(dir);
        DiTwDDTHead net = new DiTwDDTHead(DiTConfig.fromConstructorKwargs(g.config()));
        DiTwDDTHead guide =
            new DiTwDDTHead(
                DiTConfig.fromConstructorKwargs(g.config().get("guide_constructor_kwargs")))) {
      DiTCheckpoints.load(net, g.file("weights.pth"));
      DiTCheckpoints.load(guide, g.file("guide_weights.pth"));
      net.eval();
      guide.eval();
      JsonNode sampling = g.config().get("sampling");
      JsonNode tols = g.config().get("tolerance_rel");
      double tol = tols != null && tols.has("output.*") ? tols.get("output.*").asDouble() : 2e-4;
      double gridTol =
          tols != null && tols.has("derived.time_grid")
              ? tols.get("derived.time_grid").asDouble()
              : 1e-6;
      Sampler sampler =
          Sampler.euler(
              sampling.get("grid_points").asInt(), sampling.get("timestep_shift").asDouble());
      VelocityModel main = net::forward;
      VelocityModel guideModel = guide::forward;
      long nullClass = g.config().get("architecture").get("null_class").asLong();
      try (Scope s = Scope.open()) {
        checks.add(Check.of(g.compare("derived.time_grid", Tensor.of(sampler.grid())), gridTol));
        Tensor noise = g.tensor("input.initial_noise");
        Tensor labels = g.tensor("input.labels");
        List<Tensor> trajectory = new ArrayList<>();
        trajectory.add(noise.clone());
        Tensor plain =
            sampler.sample(
                main,
                Guidance.none(),
                noise,
                labels,
                Sampler.Hooks.NONE.withListener(
                    (point, t, state) -> trajectory.add(state.clone())));
        checks.add(Check.of(g.compare("output.samples_no_guidance", plain), tol));
        // A folder recorded with sampling.store_trajectory = false holds the state after the
        // first step instead of the whole trajectory; compare what the folder says it holds.
        boolean storeTrajectory =
            !sampling.has("store_trajectory") || sampling.get("store_trajectory").asBoolean();
        if (storeTrajectory) {
          checks.add(
              Check.of(
                  g.compare(
                      "output.trajectory_no_guidance",
                      Tensor.stack(trajectory.toArray(Tensor[]::new), 0)),
                  tol));
        } else {
          checks.add(
              Check.of(g.compare("output.state_after_step1_no_guidance", trajectory.get(1)), tol));
        }
        Tensor[] firstAuto = new Tensor[1];
        Tensor auto =
            sampler.sample(
                main,
                new Guidance.AutoGuidance(
                    guideModel, sampling.get("autoguidance_scale").asDouble(), 0, 1),
                noise,
                labels,
                Sampler.Hooks.NONE.withListener(
                    (point, t, state) -> {
                      if (point == 1) {
                        firstAuto[0] = state.clone();
                      }
                    }));
        checks.add(Check.of(g.compare("output.samples_autoguidance", auto), tol));
        checks.add(Check.of(g.compare("output.state_after_step1_autoguidance", firstAuto[0]), tol));
        Tensor[] firstCfg = new Tensor[1];
        Tensor cfg =
            sampler.sample(
                main,
                new Guidance.Cfg(sampling.get("cfg_scale").asDouble(), nullClass, 0, 1),
                noise,
                labels,
                Sampler.Hooks.NONE.withListener(
                    (point, t, state) -> {
                      if (point == 1) {
                        // The reference integrates the doubled batch; its halves are equal.
                        firstCfg[0] = Tensor.cat(new Tensor[] {state, state}, 0);
                      }
                    }));
        checks.add(Check.of(g.compare("output.samples_cfg", cfg), tol));
        checks.add(Check.of(g.compare("output.state_after_step1_cfg", firstCfg[0]), tol));
      }
      if (Files.isRegularFile(g.file("weights.safetensors"))
          && Files.isRegularFile(g.file("guide_weights.safetensors"))) {
        DiTCheckpoints.load(net, g.file("weights.safetensors"));
        DiTCheckpoints.load(guide, g.file("guide_weights.safetensors"));
        try (Scope s = Scope.open()) {
          Tensor auto =
              sampler.sample(
                  main,
                  new Guidance.AutoGuidance(
                      guideModel, sampling.get("autoguidance_scale").asDouble(), 0, 1),
                  g.tensor("input.initial_noise"),
                  g.tensor("input.labels"));
          checks.add(twin(g.compare("output.samples_autoguidance", auto), tol));
        }
      }
      unreplayed(g, checks, unsupported);
    }
  }

  /** case5: ADM centre crop (uint8, exact) and the normalised tensor. */
  private static void preprocess(Path dir, List<Check> checks, List<String> unsupported)
      throws IOException {
    try (GoldenCase g = GoldenCase.open(dir)) {
      AdmPreprocess pre = new AdmPreprocess(g.config().get("image_size").asInt());
      for (var e : g.config().get("images").properties()) {
        RgbImage crop =
            pre.centerCrop(AdmPreprocess.read(dir.resolve(e.getValue().get("file").asText())));
        try (Scope s = Scope.open()) {
          Tensor uint8 = Tensor.of(crop.data(), DType.UINT8, crop.height(), crop.width(), 3);
          GoldenCase.Comparison c = g.compare("output." + e.getKey() + ".crop_uint8", uint8);
          checks.add(
              new Check(
                  c.name(),
                  String.format("max abs %.0f (exact required)", c.maxAbsError()),
                  c.shapeMatches() && c.maxAbsError() == 0));
          checks.add(
              Check.of(
                  g.compare("output." + e.getKey() + ".tensor", AdmPreprocess.toTensor(crop)),
                  1e-6));
        }
      }
      unreplayed(g, checks, unsupported);
    }
  }

  /** case6: key/shape/count manifests of the released configurations. */
  private static void manifests(Path dir, List<Check> checks, List<String> unsupported)
      throws IOException {
    JsonNode summary = JSON.readTree(dir.resolve("summary.json").toFile());
    for (var it = summary.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      Path manifest = dir.resolve("manifest_" + name + ".json");
      if (name.startsWith("rectok_BB")) {
        tokenizerManifest(name, manifest, summary.get(name), checks);
        continue;
      }
      if (!name.startsWith("DiTDDT_")) {
        unsupported.add("manifest " + name);
        continue;
      }
      JsonNode m = JSON.readTree(manifest.toFile());
      List<DiTConfig.StateEntry> layout = DiTConfig.preset(name).stateDictLayout();
      List<String> keys = new ArrayList<>();
      m.get("keys").fieldNames().forEachRemaining(keys::add);
      List<String> ours = layout.stream().map(DiTConfig.StateEntry::name).toList();
      checks.add(
          new Check(
              name + " keys", ours.size() + " keys, manifest " + keys.size(), ours.equals(keys)));
      long mismatched =
          layout.stream()
              .filter(
                  e -> {
                    JsonNode k = m.get("keys").get(e.name());
                    if (k == null) {
                      return true;
                    }
                    List<Long> shape = new ArrayList<>();
                    k.get("shape").forEach(v -> shape.add(v.asLong()));
                    return !shape.equals(e.shape());
                  })
              .count();
      checks.add(new Check(name + " shapes", mismatched + " mismatched", mismatched == 0));
      long total = DiTConfig.preset(name).numParameters(false);
      long expected = summary.get(name).get("total_params").asLong();
      checks.add(
          new Check(
              name + " parameters",
              String.format("%,d (manifest %,d)", total, expected),
              total == expected));
    }
  }

  /**
   * A released tokenizer layout: keys in order, shapes, parameter count (built for real, ~700 MB).
   */
  private static void tokenizerManifest(
      String name, Path manifest, JsonNode summary, List<Check> checks) throws IOException {
    JsonNode m = JSON.readTree(manifest.toFile());
    String preset = name.equals("rectok_BB_decft") ? "rectok_BB" : name;
    try (RecTok tok = new RecTok(RecTokConfig.preset(preset))) {
      List<String> keys = new ArrayList<>();
      m.get("keys").fieldNames().forEachRemaining(keys::add);
      List<String> ours = new ArrayList<>(tok.stateDict().keySet());
      checks.add(
          new Check(
              name + " keys", ours.size() + " keys, manifest " + keys.size(), ours.equals(keys)));
      long mismatched =
          tok.stateDict().entrySet().stream()
              .filter(
                  e -> {
                    JsonNode k = m.get("keys").get(e.getKey());
                    if (k == null) {
                      return true;
                    }
                    List<Long> shape = new ArrayList<>();
                    k.get("shape").forEach(v -> shape.add(v.asLong()));
                    return !shape.equals(
                        java.util.Arrays.stream(e.getValue().shape()).boxed().toList());
                  })
              .count();
      checks.add(new Check(name + " shapes", mismatched + " mismatched", mismatched == 0));
      long total = tok.numParameters(false);
      long expected =
          summary.has("total_params")
              ? summary.get("total_params").asLong()
              : summary.get("total_params_without_dinov3").asLong();
      checks.add(
          new Check(
              name + " parameters",
              String.format("%,d (manifest %,d)", total, expected),
              total == expected));
    }
  }
}
