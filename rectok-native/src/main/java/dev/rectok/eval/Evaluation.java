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
 * FID, Inception Score, precision/recall, KID and sFID of a sample set against a reference, as
 * torch-fidelity (RecTok's {@code evaluate_FID}) or the ADM evaluator compute them (see {@code
 * docs/evaluation.md}): samples and references are folders of images or {@code .npz} files; a
 * reference {@code .npz} with stored {@code mu}/{@code sigma} (and {@code mu_s}/{@code sigma_s} for
 * sFID) is used as stored (ADM reference batches, {@code adm_in256_stats.npz}); otherwise its
 * images go through the network. Stateless; thread-safe (the network may be shared by concurrent
 * evaluations).
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
    PRC,
    /** Kernel Inception Distance (torch-fidelity's subsets and polynomial kernel). */
    KID,
    /** The ADM evaluator's spatial FID ({@code mixed_6/conv}, 2023-d, ADM formula). */
    SFID
  }

  /**
   * How to evaluate.
   *
   * @param metrics what to compute
   * @param protocol torch-fidelity or ADM formulas and conventions
   * @param batch images per network call
   * @param skipBad skip (and count) unreadable or mismatched images instead of failing
   * @param threads image decoder threads
   * @param kid KID settings (torch-fidelity's defaults unless changed)
   */
  public record Options(
      Set<Metric> metrics,
      Fid.Protocol protocol,
      int batch,
      boolean skipBad,
      int threads,
      KernelInceptionDistance.Options kid) {
    /** Options with torch-fidelity's KID defaults. */
    public Options(
        Set<Metric> metrics, Fid.Protocol protocol, int batch, boolean skipBad, int threads) {
      this(metrics, protocol, batch, skipBad, threads, KernelInceptionDistance.Options.DEFAULTS);
    }

    /** Validates and copies the metric set. */
    public Options {
      metrics = Set.copyOf(metrics);
      Objects.requireNonNull(protocol, "protocol");
      Objects.requireNonNull(kid, "kid");
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
   *     recall}, {@code f_score}, {@code kernel_inception_distance_mean}, {@code
   *     kernel_inception_distance_std}, {@code sfid})
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
    boolean kid = o.metrics().contains(Metric.KID);
    boolean sfid = o.metrics().contains(Metric.SFID);
    // precision/recall and KID compare feature rows, not statistics
    boolean rows = prc || kid;
    if ((fid || rows || sfid) && reference == null) {
      throw new IllegalArgumentException(
          "FID, sFID, KID and precision/recall need a reference (--ref)");
    }
    FeatureSet gen;
    try (ImageSource src = ImageSource.open(samples, o.skipBad(), o.threads())) {
      gen = FeatureSet.extract(net, src, o.batch(), isc, rows, sfid, progress);
    }
    Map<String, Double> m = new LinkedHashMap<>();
    int refImages = 0;
    boolean stored = false;
    if (fid || rows || sfid) {
      FrechetDistance.Statistics refStats = null;
      FrechetDistance.Statistics refSpatial = null;
      FeatureSet ref = null;
      if (!Files.isDirectory(reference) && reference.getFileName().toString().endsWith(".npz")) {
        try (Npz.Reader r = Npz.open(reference)) {
          if (ReferenceStatistics.hasStatistics(r)) {
            refStats = ReferenceStatistics.read(r);
            stored = true;
          }
          if (sfid && ReferenceStatistics.hasSpatialStatistics(r)) {
            refSpatial = ReferenceStatistics.readSpatial(r);
          }
          if (!r.has("arr_0")) {
            String missing =
                fid && refStats == null
                    ? "FID needs mu/sigma or images"
                    : sfid && refSpatial == null
                        ? "sFID needs mu_s/sigma_s (an ADM reference batch) or images"
                        : rows ? (prc ? "precision/recall" : "KID") + " needs images" : null;
            if (missing != null) {
              throw new IllegalArgumentException(
                  missing
                      + ", but "
                      + reference
                      + " holds no arr_0 images; pass a folder or an .npz with arr_0");
            }
          }
        }
      }
      if ((fid && refStats == null) || rows || (sfid && refSpatial == null)) {
        boolean spatialImages = sfid && refSpatial == null;
        try (ImageSource src = ImageSource.open(reference, false, o.threads())) {
          ref = FeatureSet.extract(net, src, o.batch(), false, rows, spatialImages, progress);
          refImages = ref.count();
        }
        if (refStats == null) {
          refStats = Fid.withFloat32Mean(ref.statistics());
          stored = false;
        }
        if (spatialImages) {
          refSpatial = Fid.withFloat32Mean(ref.spatialStatistics());
        }
      }
      if (sfid) {
        m.put(
            "sfid",
            Fid.distance(
                Fid.withFloat32Mean(gen.spatialStatistics()), refSpatial, Fid.Protocol.ADM));
      }
      if (kid) {
        KernelInceptionDistance.Result k =
            KernelInceptionDistance.compute(
                gen.pool(), gen.count(), ref.pool(), ref.count(), 2048, o.kid());
        m.put("kernel_inception_distance_mean", k.mean());
        m.put("kernel_inception_distance_std", k.std());
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

  /**
   * The metrics of {@code wanted} that {@code reference} can give ({@code eval all} computes
   * these): a statistics-only {@code .npz} (no {@code arr_0}) gives neither precision/recall nor
   * KID (they compare feature rows), nor sFID without {@code mu_s}/{@code sigma_s}.
   */
  public static Set<Metric> possibleWith(Set<Metric> wanted, Path reference) throws IOException {
    EnumSet<Metric> out = wanted.isEmpty() ? EnumSet.noneOf(Metric.class) : EnumSet.copyOf(wanted);
    if (reference != null
        && Files.isRegularFile(reference)
        && reference.getFileName().toString().endsWith(".npz")) {
      try (Npz.Reader r = Npz.open(reference)) {
        if (!r.has("arr_0")) {
          out.remove(Metric.PRC);
          out.remove(Metric.KID);
          if (!ReferenceStatistics.hasSpatialStatistics(r)) {
            out.remove(Metric.SFID);
          }
        }
      }
    }
    return out;
  }

  /** The metrics named by {@code what} under torch-fidelity's protocol. */
  public static Set<Metric> metricsOf(String what) {
    return metricsOf(what, Fid.Protocol.TORCH_FIDELITY);
  }

  /**
   * The metrics named by {@code what}: fid, isc, prc, kid, sfid or all; "all" is what the protocol
   * reports: FID, IS, precision/recall and KID (torch-fidelity) or sFID (ADM).
   */
  public static Set<Metric> metricsOf(String what, Fid.Protocol protocol) {
    return switch (what) {
      case "fid" -> EnumSet.of(Metric.FID);
      case "isc" -> EnumSet.of(Metric.ISC);
      case "prc" -> EnumSet.of(Metric.PRC);
      case "kid" -> EnumSet.of(Metric.KID);
      case "sfid" -> EnumSet.of(Metric.SFID);
      case "all" ->
          protocol == Fid.Protocol.ADM
              ? EnumSet.of(Metric.FID, Metric.ISC, Metric.PRC, Metric.SFID)
              : EnumSet.of(Metric.FID, Metric.ISC, Metric.PRC, Metric.KID);
      default ->
          throw new IllegalArgumentException(
              "metric must be fid, isc, prc, kid, sfid or all, got '" + what + "'");
    };
  }
}
