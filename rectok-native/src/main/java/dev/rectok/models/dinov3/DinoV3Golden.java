package dev.rectok.models.dinov3;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rectok.models.golden.GoldenCase;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Replays a golden folder of the {@code case8_dinov3_teacher} format: the DINOv3 forward from every
 * weight file the config lists (both layouts), batch by batch, with the RoPE tables, the embedded
 * tokens and every output, and RecTok's teacher image path. Sizes, widths, heads, patch sizes and
 * seeds come only from the folder, so any folder in this format replays. Tolerances are the
 * folder's ({@code tolerances}); the uint8 step must match exactly.
 *
 * <p>Stateless and thread-safe (each call owns what it builds).
 */
public final class DinoV3Golden {
  /** The {@code case} value this replays. */
  public static final String CASE = "case8_dinov3_teacher";

  private DinoV3Golden() {}

  /**
   * One compared tensor.
   *
   * @param name what was compared, prefixed by the weight file for model outputs
   * @param comparison the errors, or null when the tensor could not be produced ({@code problem}
   *     says why)
   * @param tolerance the relative tolerance (0: exact)
   * @param problem why nothing was compared, or null
   */
  public record Check(
      String name, GoldenCase.Comparison comparison, double tolerance, String problem) {
    /** Whether the check passed. */
    public boolean passed() {
      return problem == null && comparison.passes(tolerance);
    }

    /** The detail column of {@code check-golden}. */
    public String detail() {
      if (problem != null) {
        return problem;
      }
      return String.format(
          "rel %.3e  max abs %.3e  (tol %s)%s",
          comparison.relError(),
          comparison.maxAbsError(),
          tolerance == 0 ? "exact" : String.format("%.0e", tolerance),
          comparison.shapeMatches() ? "" : "  SHAPE MISMATCH");
    }
  }

  /** Replays the folder; one {@link Check} per compared tensor. */
  public static List<Check> replay(Path dir) throws IOException {
    List<Check> checks = new ArrayList<>();
    try (GoldenCase g = GoldenCase.open(dir)) {
      JsonNode cfg = g.config();
      DinoV3Config c = DinoV3Config.fromConstructorKwargs(cfg.get("constructor_kwargs"));
      JsonNode tol = cfg.path("tolerances");
      double tRope = tol.path("rope").asDouble(1e-6);
      double tTokens = tol.path("tokens_embedded").asDouble(1e-6);
      double tOut = tol.path("outputs").asDouble(1e-4);
      double tPre = tol.path("preprocess").asDouble(1e-5);
      List<String> files = new ArrayList<>();
      for (Iterator<String> it = cfg.path("weights").fieldNames(); it.hasNext(); ) {
        files.add(it.next());
      }
      if (files.isEmpty()) {
        checks.add(new Check("weights", null, 0, "config.json lists no weight files"));
      }
      int batches = cfg.path("batches").size();
      for (String wf : files) {
        Path p = dir.resolve(wf);
        if (!Files.isRegularFile(p)) {
          checks.add(new Check(wf, null, 0, "missing weight file " + p));
          continue;
        }
        try (DinoV3 model = DinoV3Weights.load(p, c)) {
          for (int b = 0; b < batches; b++) {
            String in = "input.batch" + b + ".pixel_values";
            try (Scope s = Scope.open()) {
              Tensor px = g.tensor(in);
              int[] hw = model.grid(px.size(2), px.size(3));
              if (wf.equals(files.get(0))) {
                try (DinoV3Rope.Tables t = model.ropeTables(hw[0], hw[1])) {
                  checks.add(cmp(g, "debug.batch" + b + ".rope_sin", t.sin(), tRope, ""));
                  checks.add(cmp(g, "debug.batch" + b + ".rope_cos", t.cos(), tRope, ""));
                }
              }
              checks.add(
                  cmp(
                      g,
                      "debug.batch" + b + ".tokens_embedded",
                      model.prepareTokens(px),
                      tTokens,
                      wf));
              try (DinoV3.Features f = model.forwardFeatures(px)) {
                checks.add(
                    cmp(g, "output.batch" + b + ".x_norm_clstoken", f.xNormClsToken(), tOut, wf));
                checks.add(
                    cmp(g, "output.batch" + b + ".x_storage_tokens", f.xStorageTokens(), tOut, wf));
                checks.add(
                    cmp(
                        g,
                        "output.batch" + b + ".x_norm_patchtokens",
                        f.xNormPatchTokens(),
                        tOut,
                        wf));
                checks.add(cmp(g, "output.batch" + b + ".x_prenorm", f.xPrenorm(), tOut, wf));
                checks.add(
                    cmp(
                        g,
                        "output.batch" + b + ".last_hidden_state",
                        f.lastHiddenState(),
                        tOut,
                        wf));
              }
            }
          }
        }
      }
      if (g.has("input.preprocess.images_minus1_1")) {
        try (Scope s = Scope.open()) {
          Tensor x = g.tensor("input.preprocess.images_minus1_1");
          Tensor u8 = TeacherImagePath.toUint8(x);
          checks.add(cmp(g, "debug.preprocess.uint8", u8, 0.0, ""));
          checks.add(
              cmp(
                  g,
                  "debug.preprocess.resized_224_normalized",
                  TeacherImagePath.processor(u8),
                  tPre,
                  ""));
          long[] out = g.host("output.preprocess.pixel_values_256").shape();
          checks.add(
              cmp(
                  g,
                  "output.preprocess.pixel_values_256",
                  TeacherImagePath.pixelValues(x, out[2], out[3]),
                  tPre,
                  ""));
        }
      }
    }
    return checks;
  }

  private static Check cmp(GoldenCase g, String name, Tensor actual, double tol, String file) {
    String label = file.isEmpty() ? name : file + ": " + name;
    if (!g.has(name)) {
      return new Check(label, null, tol, "not in io.safetensors");
    }
    GoldenCase.Comparison c = g.compare(name, actual);
    return new Check(
        label,
        new GoldenCase.Comparison(label, c.relError(), c.maxAbsError(), c.shapeMatches()),
        tol,
        null);
  }
}
