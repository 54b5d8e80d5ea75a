package dev.rectok.eval;

import dev.rectok.api.Progress;
import dev.rectok.models.inception.InceptionV3;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.io.Npz;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * FID, Inception Score and precision/recall of a sample set against a reference, as torch-fidelity
 * (RecTok's {@code evaluate_FID}) or the ADM evaluator compute them (see {@code
 * docs/evaluation.md}): samples and references are folders of images or {@code .npz} files; a
 * reference {@code .npz} with stored {@code mu}/{@code sigma} is used as stored (ADM reference
 * batches, {@code adm_in256_stats.npz}); otherwise its images go through the network. Stateless;
 * thread-safe (the network may be shared by concurrent evaluations).
 */
public final class Evaluation {
  private Evaluation() {}

  /** The metric families. */
  public enum Metric {
    /** Fréchet Inception Distance (2048-d pool features). */
    FID,
    /** Inception Score ({@code logits_unbiased}). */
    ISC,
    /** Precision, recall and F-score, k = 3. */
    PRC
  }

  /**
   * How to evaluate.
   *
   * @param metrics what to compute
   * @param protocol torch-fidelity or ADM formulas and conventions
   * @param batch images per network call
   * @param skipBad skip (and count) unreadable or mismatched images instead of failing
   * @param threads image decoder threads
   */
  public record Options(
      Set<Metric> metrics, Fid.Protocol protocol, int batch, boolean skipBad, int threads) {
    /** Validates and copies the metric set. */
    public Options {
      metrics = Set.copyOf(metrics);
      Objects.requireNonNull(protocol, "protocol");
      if (metrics.isEmpty()) {
        throw new IllegalArgumentException("no metric requested");
      }
      if (batch < 1 || threads < 1) {
        throw new IllegalArgumentException("batch and threads must be at least 1");
      }
    }
  }

  /**
   * The outcome.
   *
   * @param metrics metric name → value (torch-fidelity's names: {@code frechet_inception_distance},
   *     {@code inception_score_mean}, {@code inception_score_std}, {@code precision}, {@code
   *     recall}, {@code f_score})
   * @param samples images evaluated
   * @param skipped sample images skipped ({@code skipBad})
   * @param referenceImages reference images run through the network (0 when stored statistics were
   *     used)
   * @param referenceStoredStatistics whether the reference's stored {@code mu}/{@code sigma} were
   *     used
   */
  public record Report(
      Map<String, Double> metrics,
      int samples,
      long skipped,
      int referenceImages,
      boolean referenceStoredStatistics) {
    /** Copies the metric map. */
    public Report {
      metrics = Map.copyOf(metrics);
    }
  }

  /**
   * Evaluates {@code samples} against {@code reference} ({@code reference} may be null when only
   * the Inception Score is requested).
   */
  public static Report run(
      InceptionV3 net, Path samples, Path reference, Options o, Progress progress)
      throws IOException {
    boolean fid = o.metrics().contains(Metric.FID);
    boolean isc = o.metrics().contains(Metric.ISC);
    boolean prc = o.metrics().contains(Metric.PRC);
    if ((fid || prc) && reference == null) {
      throw new IllegalArgumentException("FID and precision/recall need a reference (--ref)");
    }
    FeatureSet gen;
    try (ImageSource src = ImageSource.open(samples, o.skipBad(), o.threads())) {
      gen = FeatureSet.extract(net, src, o.batch(), isc, prc, progress);
    }
    Map<String, Double> m = new LinkedHashMap<>();
    int refImages = 0;
    boolean stored = false;
    if (fid || prc) {
      FrechetDistance.Statistics refStats = null;
      FeatureSet ref = null;
      if (!Files.isDirectory(reference) && reference.getFileName().toString().endsWith(".npz")) {
        try (Npz.Reader r = Npz.open(reference)) {
          if (ReferenceStatistics.hasStatistics(r)) {
            refStats = ReferenceStatistics.read(r);
            stored = true;
          } else if (!r.has("arr_0")) {
            throw new dev.rectok.torch.io.CheckpointFormatException(
                reference + " has neither mu/sigma nor arr_0 images");
          }
          if (prc && !r.has("arr_0")) {
            throw new IllegalArgumentException(
                "precision/recall needs reference images, but "
                    + reference
                    + " holds only statistics; pass a folder or an .npz with arr_0");
          }
        }
      }
      if (refStats == null || prc) {
        try (ImageSource src = ImageSource.open(reference, false, o.threads())) {
          ref = FeatureSet.extract(net, src, o.batch(), false, prc, progress);
          refImages = ref.count();
        }
        if (refStats == null) {
          refStats = Fid.withFloat32Mean(ref.statistics());
          stored = false;
        }
      }
      if (fid) {
        FrechetDistance.Statistics g = Fid.withFloat32Mean(gen.statistics());
        if (g.dim() != refStats.dim()) {
          throw new IllegalArgumentException(
              "the reference statistics of "
                  + reference
                  + " are "
                  + refStats.dim()
                  + "-dimensional but the samples' features are "
                  + g.dim()
                  + "-dimensional");
        }
        m.put("frechet_inception_distance", Fid.distance(g, refStats, o.protocol()));
      }
      if (prc) {
        try (Scope s = Scope.open()) {
          PrecisionRecall.Result pr =
              PrecisionRecall.compute(
                  Tensor.of(gen.pool(), gen.count(), 2048),
                  Tensor.of(ref.pool(), ref.count(), 2048),
                  3);
          m.put("precision", pr.precision());
          m.put("recall", pr.recall());
          m.put("f_score", pr.fScore());
        }
      }
    }
    if (isc) {
      if (o.protocol() == Fid.Protocol.ADM) {
        m.put(
            "inception_score",
            InceptionScore.adm(gen.logits(), gen.count(), InceptionV3.NUM_CLASSES, 5000));
      } else {
        InceptionScore.Result r =
            InceptionScore.torchFidelity(
                gen.logits(), gen.count(), InceptionV3.NUM_CLASSES, 10, true, 2020);
        m.put("inception_score_mean", r.mean());
        m.put("inception_score_std", r.std());
      }
    }
    return new Report(m, gen.count(), gen.skipped(), refImages, stored);
  }

  /**
   * Statistics of an image set (folder or {@code .npz}) with the float32 mean both references keep.
   */
  public static FrechetDistance.Statistics statistics(
      InceptionV3 net, Path images, int batch, boolean skipBad, int threads, Progress progress)
      throws IOException {
    try (ImageSource src = ImageSource.open(images, skipBad, threads)) {
      return Fid.withFloat32Mean(
          FeatureSet.extract(net, src, batch, false, false, progress).statistics());
    }
  }

  /** The metrics named by {@code what}: fid, isc, prc or all. */
  public static Set<Metric> metricsOf(String what) {
    return switch (what) {
      case "fid" -> EnumSet.of(Metric.FID);
      case "isc" -> EnumSet.of(Metric.ISC);
      case "prc" -> EnumSet.of(Metric.PRC);
      case "all" -> EnumSet.allOf(Metric.class);
      default ->
          throw new IllegalArgumentException(
              "metric must be fid, isc, prc or all, got '" + what + "'");
    };
  }
}
