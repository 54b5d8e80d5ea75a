package dev.rectok.eval;

import dev.rectok.api.Progress;
import dev.rectok.models.inception.InceptionV3;
import dev.rectok.models.inception.InceptionV3.Feature;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import java.io.IOException;
import java.util.EnumSet;
import java.util.Map;

/**
 * What one pass of the Inception network over an image set keeps: the float64 running statistics of
 * the 2048-d pool features (always; FID needs nothing else), and on request the {@code
 * logits_unbiased} rows (Inception Score) and the pool features themselves (precision/recall),
 * which torch-fidelity also holds in memory, and on request the float64 running statistics of the
 * ADM evaluator's 2023-d spatial feature ({@code mixed_6/conv}, sFID). Immutable once built;
 * thread-safe.
 *
 * @param statistics mean and covariance of the pool features (the mean in float64)
 * @param logits {@code logits_unbiased}, count × 1008 row-major, or null
 * @param pool the pool features, count × 2048 row-major, or null
 * @param count images that went through the network
 * @param skipped images skipped as unreadable or mismatched ({@code --skip-bad})
 * @param spatialStatistics mean and covariance of the spatial feature, or null
 */
public record FeatureSet(
    FrechetDistance.Statistics statistics,
    float[] logits,
    float[] pool,
    int count,
    long skipped,
    FrechetDistance.Statistics spatialStatistics) {

  /** A feature set without spatial statistics. */
  public FeatureSet(
      FrechetDistance.Statistics statistics,
      float[] logits,
      float[] pool,
      int count,
      long skipped) {
    this(statistics, logits, pool, count, skipped, null);
  }

  /**
   * Runs {@code net} over {@code source} in batches of {@code batch}.
   *
   * @throws IllegalArgumentException for fewer than two images (no covariance)
   */
  public static FeatureSet extract(
      InceptionV3 net,
      ImageSource source,
      int batch,
      boolean keepLogits,
      boolean keepPool,
      Progress progress)
      throws IOException {
    return extract(net, source, batch, keepLogits, keepPool, false, progress);
  }

  /**
   * Runs {@code net} over {@code source} in batches of {@code batch}, also accumulating the spatial
   * feature's statistics when {@code spatial}.
   *
   * @throws IllegalArgumentException for fewer than two images (no covariance)
   */
  public static FeatureSet extract(
      InceptionV3 net,
      ImageSource source,
      int batch,
      boolean keepLogits,
      boolean keepPool,
      boolean spatial,
      Progress progress)
      throws IOException {
    if (batch < 1) {
      throw new IllegalArgumentException("batch must be at least 1, got " + batch);
    }
    EnumSet<Feature> wanted = EnumSet.of(Feature.F2048);
    if (keepLogits) {
      wanted.add(Feature.LOGITS_UNBIASED);
    }
    if (spatial) {
      wanted.add(Feature.SPATIAL);
    }
    FrechetDistance.Accumulator acc = new FrechetDistance.Accumulator();
    FrechetDistance.Accumulator spatialAcc = spatial ? new FrechetDistance.Accumulator() : null;
    float[] logits = keepLogits ? new float[source.size() * InceptionV3.NUM_CLASSES] : null;
    float[] pool = keepPool ? new float[source.size() * 2048] : null;
    int count = 0;
    progress.start("Inception features of " + source.path(), source.size());
    ImageSource.Batch b;
    while ((b = source.next(batch)) != null) {
      try (Scope s = Scope.open()) {
        Tensor images =
            Tensor.of(b.pixels(), dev.rectok.api.DType.UINT8, b.n(), 3, b.height(), b.width());
        Map<Feature, Tensor> f = net.features(images, wanted);
        Tensor p = f.get(Feature.F2048);
        acc.add(p);
        if (spatial) {
          spatialAcc.add(f.get(Feature.SPATIAL));
        }
        if (keepPool) {
          float[] v = p.toFloatArray();
          System.arraycopy(v, 0, pool, count * 2048, v.length);
        }
        if (keepLogits) {
          float[] v = f.get(Feature.LOGITS_UNBIASED).toFloatArray();
          System.arraycopy(v, 0, logits, count * InceptionV3.NUM_CLASSES, v.length);
        }
      }
      count += b.n();
      progress.update(
          count + source.skipped(), source.skipped() > 0 ? source.skipped() + " skipped" : "");
    }
    progress.end();
    if (count < 2) {
      throw new IllegalArgumentException(
          source.path() + " has " + count + " usable image(s); statistics need at least 2");
    }
    if (keepLogits && count * InceptionV3.NUM_CLASSES != logits.length) {
      logits = java.util.Arrays.copyOf(logits, count * InceptionV3.NUM_CLASSES);
    }
    if (keepPool && count * 2048 != pool.length) {
      pool = java.util.Arrays.copyOf(pool, count * 2048);
    }
    return new FeatureSet(
        acc.statistics(),
        logits,
        pool,
        count,
        source.skipped(),
        spatial ? spatialAcc.statistics() : null);
  }
}
