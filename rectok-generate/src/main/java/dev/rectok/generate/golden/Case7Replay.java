package dev.rectok.generate.golden;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rectok.api.DType;
import dev.rectok.eval.Fid;
import dev.rectok.eval.FrechetDistance;
import dev.rectok.eval.InceptionScore;
import dev.rectok.eval.PrecisionRecall;
import dev.rectok.eval.ReferenceStatistics;
import dev.rectok.generate.golden.GoldenReplay.Check;
import dev.rectok.models.golden.GoldenCase;
import dev.rectok.models.inception.InceptionV3;
import dev.rectok.models.inception.InceptionV3.Feature;
import dev.rectok.models.inception.InceptionWeights;
import dev.rectok.models.inception.Tf1Resize;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.io.Npz;
import dev.rectok.torch.io.PthCheckpoint;
import dev.rectok.torch.io.PthReader;
import dev.rectok.torch.io.PthTensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;

/**
 * Replays {@code case7_inception_fid} (torch-fidelity's InceptionV3, FID/IS/precision-recall in
 * both formula families, ADM-style {@code .npz} reference batches, a legacy {@code torch.save}
 * file). Everything is driven by the folder: the weight recipe's seed, the batches, the requested
 * features, the metric settings and the tolerances of {@code config.json}, so folders with other
 * seeds, sizes, widths or split counts replay unchanged. Stateless; thread-safe.
 */
public final class Case7Replay {
  /** The case kind. */
  public static final String KIND = "case7_inception_fid";

  /** The replayer, by kind, for {@link GoldenReplay#run(Path, Map)}. */
  public static final Map<String, GoldenReplay.Replayer> REPLAYERS =
      Map.of(KIND, Case7Replay::replay);

  private Case7Replay() {}

  /** Replays {@code dir}; see the class comment. */
  public static void replay(Path dir, List<Check> checks, List<String> unsupported)
      throws IOException {
    try (GoldenCase g = GoldenCase.open(dir)) {
      JsonNode cfg = g.config();
      JsonNode tol = cfg.get("tolerances");
      JsonNode recipe = cfg.get("weights_recipe");
      if (!"splitmix64".equals(recipe.path("generator").asText())) {
        unsupported.add("weights_recipe generator " + recipe.path("generator").asText());
        return;
      }
      try (InceptionV3 net = InceptionWeights.fromRecipe(recipe.get("seed").asLong())) {
        if (cfg.has("parameters")) {
          long n = net.numParameters(false);
          checks.add(
              new Check(
                  "parameters",
                  n + " (expected " + cfg.get("parameters").asLong() + ")",
                  n == cfg.get("parameters").asLong()));
        }
        features(g, net, tol, checks);
      }
      metrics(g, tol, checks);
      npz(g, tol, checks);
      legacy(g, checks);
      GoldenReplay.unreplayed(g, checks, unsupported);
    }
  }

  private static double tol(JsonNode tol, String key) {
    JsonNode t = tol.get(key);
    return t == null || !t.isNumber() ? 0.0 : t.asDouble(); // "exact" (or absent) means 0
  }

  private static void features(GoldenCase g, InceptionV3 net, JsonNode tol, List<Check> checks) {
    EnumSet<Feature> wanted = EnumSet.noneOf(Feature.class);
    g.config().get("features").forEach(f -> wanted.add(Feature.of(f.asText())));
    for (int b = 0; b < g.config().get("batches").size(); b++) {
      String p = "batch" + b + ".";
      try (Scope s = Scope.open()) {
        Tensor images = g.tensor("input." + p + "images_uint8");
        if (g.has("debug." + p + "resized_299")) {
          Tensor ref = g.tensor("debug." + p + "resized_299");
          Tensor r =
              Tf1Resize.toTensor(
                  images, InceptionV3.INPUT_SIZE, InceptionV3.INPUT_SIZE, DType.FLOAT32);
          checks.add(
              Check.of(
                  GoldenCase.compare(
                      "debug." + p + "resized_299", r.narrow(0, 0, ref.size(0)), ref),
                  tol(tol, "resize")));
        }
        Map<Feature, Tensor> out = net.features(images, wanted);
        out.forEach(
            (f, t) ->
                checks.add(
                    Check.of(
                        g.compare("output." + p + "features_" + f.key(), t),
                        tol(tol, "features"))));
      }
    }
  }

  private static Check scalar(String name, double actual, double expected, double tolerance) {
    double rel =
        expected == 0 ? Math.abs(actual) : Math.abs(actual - expected) / Math.abs(expected);
    return new Check(
        name,
        String.format("%.15g vs %.15g  rel %.3e  (tol %.0e)", actual, expected, rel, tolerance),
        rel <= tolerance);
  }

  private static double metric(GoldenCase g, String name) {
    return g.host("output.metric." + name)
        .data()
        .get(java.lang.foreign.ValueLayout.JAVA_DOUBLE_UNALIGNED, 0);
  }

  private static FrechetDistance.Statistics stats(GoldenCase g, String name) {
    try (Scope s = Scope.open()) {
      return Fid.withFloat32Mean(FrechetDistance.Statistics.of(g.tensor(name)));
    }
  }

  private static void metrics(GoldenCase g, JsonNode tol, List<Check> checks) {
    JsonNode ms = g.config().get("metrics_settings");
    FrechetDistance.Statistics real = stats(g, "input.features_real");
    FrechetDistance.Statistics gen = stats(g, "input.features_generated");
    try (Scope s = Scope.open()) {
      double st = tol(tol, "statistics");
      checks.add(
          Check.of(g.compare("output.real.mu", Tensor.of(real.mean()).to(DType.FLOAT32)), st));
      checks.add(
          Check.of(
              g.compare(
                  "output.real.sigma",
                  Tensor.of(real.covarianceRowMajor(), real.dim(), real.dim())),
              st));
      checks.add(
          Check.of(g.compare("output.generated.mu", Tensor.of(gen.mean()).to(DType.FLOAT32)), st));
      checks.add(
          Check.of(
              g.compare(
                  "output.generated.sigma",
                  Tensor.of(gen.covarianceRowMajor(), gen.dim(), gen.dim())),
              st));
    }
    double ft = tol(tol, "fid");
    // torch-fidelity's order: fid_statistics_to_metric(generated, real)
    checks.add(
        scalar(
            "output.metric.fid_torch_fidelity",
            Fid.distance(gen, real, Fid.Protocol.TORCH_FIDELITY),
            metric(g, "fid_torch_fidelity"),
            ft));
    checks.add(
        scalar(
            "output.metric.fid_adm_sqrtm",
            Fid.distance(gen, real, Fid.Protocol.ADM),
            metric(g, "fid_adm_sqrtm"),
            ft));
    float[] logits;
    long[] shape;
    try (Scope s = Scope.open()) {
      Tensor l = g.tensor("input.logits_unbiased");
      logits = l.toFloatArray();
      shape = l.shape();
    }
    int n = Math.toIntExact(shape[0]);
    int c = Math.toIntExact(shape[1]);
    InceptionScore.Result is =
        InceptionScore.torchFidelity(
            logits,
            n,
            c,
            ms.get("isc_splits").asInt(),
            ms.get("isc_shuffle").asBoolean(),
            ms.get("isc_rng_seed").asLong());
    double it = tol(tol, "inception_score");
    checks.add(
        scalar(
            "output.metric.inception_score_mean",
            is.mean(),
            metric(g, "inception_score_mean"),
            it));
    checks.add(
        scalar(
            "output.metric.inception_score_std", is.std(), metric(g, "inception_score_std"), it));
    checks.add(
        scalar(
            "output.metric.inception_score_adm_splits",
            InceptionScore.adm(logits, n, c, ms.get("adm_is_split_size").asInt()),
            metric(g, "inception_score_adm_splits"),
            it));
    try (Scope s = Scope.open()) {
      PrecisionRecall.Result pr =
          PrecisionRecall.compute(
              g.tensor("input.features_generated"),
              g.tensor("input.features_real"),
              ms.get("prc_neighborhood").asInt());
      double pt = tol(tol, "precision_recall");
      checks.add(scalar("output.metric.precision", pr.precision(), metric(g, "precision"), pt));
      checks.add(scalar("output.metric.recall", pr.recall(), metric(g, "recall"), pt));
      checks.add(
          scalar("output.metric.f_score", pr.fScore(), metric(g, "f_score"), Math.max(pt, 1e-15)));
    }
  }

  private static void npz(GoldenCase g, JsonNode tol, List<Check> checks) throws IOException {
    FrechetDistance.Statistics gen = stats(g, "input.features_generated");
    for (String file : new String[] {"ref_batch.npz", "ref_batch_compressed.npz"}) {
      Path p = g.file(file);
      if (!Files.isRegularFile(p)) {
        continue;
      }
      try (Npz.Reader r = Npz.open(p);
          Scope s = Scope.open()) {
        // arr_0 is N x H x W x 3 uint8: stream it and compare with batch1 in NHWC order
        Npz.ArrayInfo a = r.info("arr_0");
        long[] sh = a.shape();
        byte[] got;
        try (InputStream in = r.stream("arr_0")) {
          got = in.readNBytes(Math.toIntExact(a.numel()));
        }
        Tensor expect = g.tensor("input.batch1.images_uint8").permute(0, 2, 3, 1).contiguous();
        boolean same =
            java.util.Arrays.equals(sh, expect.shape())
                && java.util.Arrays.equals(got, expect.toByteArray());
        checks.add(
            new Check(
                file + ":arr_0",
                "uint8 " + java.util.Arrays.toString(sh) + " (exact required)",
                same));
        FrechetDistance.Statistics ref = ReferenceStatistics.read(r);
        FrechetDistance.Statistics real =
            FrechetDistance.Statistics.of(g.tensor("input.features_real"));
        double st = tol(tol, "statistics");
        checks.add(
            Check.of(
                GoldenCase.compare(file + ":mu", Tensor.of(ref.mean()), Tensor.of(real.mean())),
                st));
        checks.add(
            Check.of(
                GoldenCase.compare(
                    file + ":sigma",
                    Tensor.of(ref.covarianceRowMajor()),
                    Tensor.of(real.covarianceRowMajor())),
                st));
        checks.add(
            scalar(
                "output.metric.fid_from_npz_stats",
                Fid.distance(gen, ref, Fid.Protocol.TORCH_FIDELITY),
                metric(g, "fid_from_npz_stats"),
                tol(tol, "fid")));
      }
    }
  }

  private static void legacy(GoldenCase g, List<Check> checks) throws IOException {
    Path p = g.file("legacy_subset.pth");
    if (!Files.isRegularFile(p)) {
      return;
    }
    try (PthCheckpoint ck = PthReader.read(p)) {
      Map<String, PthTensor> t = ck.tensors();
      for (String name : g.names()) {
        if (!name.startsWith("legacy.")) {
          continue;
        }
        String key = name.substring("legacy.".length());
        PthTensor v = t.get(key);
        if (v == null) {
          checks.add(new Check(name, "missing from " + p.getFileName(), false));
          continue;
        }
        try (Scope s = Scope.open()) {
          GoldenReplay.exact(g, checks, name, Tensor.fromHost(v.toHost()));
        }
      }
    }
  }
}
