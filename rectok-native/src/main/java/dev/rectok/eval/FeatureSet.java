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
 * ADM evaluator's 2023-d spatial feature ({@code mixed_6/conv}, sFID). Under an evaluation job
 * ({@link EvalParallel}) each rank runs the network on its chunks of images and every rank ends
 * with the whole set's values, in image order. Immutable once built; thread-safe.
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
    final float[] logits = keepLogits ? new float[source.size() * InceptionV3.NUM_CLASSES] : null;
    final float[] pool = keepPool ? new float[source.size() * 2048] : null;
    FrechetDistance.Accumulator spatialAcc = spatial ? new FrechetDistance.Accumulator() : null;
    int spatialDim = Feature.SPATIAL.dim();
    int width = 2048 + (keepLogits ? InceptionV3.NUM_CLASSES : 0) + (spatial ? spatialDim : 0);
    int[] count = {0};
    long[] skipped = {0};
    progress.start("Inception features of " + source.path(), source.size());
    // chunk by chunk over the ranks of an evaluation job (EvalParallel), consumed in global order,
    // so the statistics do not depend on the number of processes
    EvalParallel.forEachChunk(
        Math.ceilDiv(source.size(), batch),
        batch,
        width,
        (c, mine) -> {
          if (!mine) {
            source.skip(batch);
            return null;
          }
          long before = source.skipped();
          ImageSource.Batch b = source.chunk(batch);
          if (b.n() == 0) {
            return new EvalParallel.Chunk(new float[0], 0, source.skipped() - before);
          }
          try (Scope s = Scope.open()) {
            Tensor images =
                Tensor.of(b.pixels(), dev.rectok.api.DType.UINT8, b.n(), 3, b.height(), b.width());
            Map<Feature, Tensor> f = net.features(images, wanted);
            float[] v = new float[b.n() * width];
            float[] p = f.get(Feature.F2048).toFloatArray();
            System.arraycopy(p, 0, v, 0, p.length);
            if (keepLogits) {
              float[] l = f.get(Feature.LOGITS_UNBIASED).toFloatArray();
              System.arraycopy(l, 0, v, p.length, l.length);
            }
            if (spatial) {
              float[] sp = f.get(Feature.SPATIAL).toFloatArray();
              System.arraycopy(sp, 0, v, v.length - sp.length, sp.length);
            }
            return new EvalParallel.Chunk(v, b.n(), source.skipped() - before);
          }
        },
        (c, r) -> {
          skipped[0] += r.skipped();
          int n = r.n();
          if (n > 0) {
            try (Scope s = Scope.open()) {
              acc.add(Tensor.of(java.util.Arrays.copyOf(r.values(), n * 2048), n, 2048));
            }
            if (keepPool) {
              System.arraycopy(r.values(), 0, pool, count[0] * 2048, n * 2048);
            }
            if (keepLogits) {
              int k = InceptionV3.NUM_CLASSES;
              System.arraycopy(r.values(), n * 2048, logits, count[0] * k, n * k);
            }
            if (spatial) {
              int from = n * (width - spatialDim);
              try (Scope s = Scope.open()) {
                spatialAcc.add(
                    Tensor.of(
                        java.util.Arrays.copyOfRange(r.values(), from, from + n * spatialDim),
                        n,
                        spatialDim));
              }
            }
            count[0] += n;
          }
          progress.update(count[0] + skipped[0], skipped[0] > 0 ? skipped[0] + " skipped" : "");
        });
    progress.end();
    int n = count[0];
    if (n < 2) {
      throw new IllegalArgumentException(
          source.path() + " has " + n + " usable image(s); statistics need at least 2");
    }
    float[] l = logits;
    if (keepLogits && n * InceptionV3.NUM_CLASSES != l.length) {
      l = java.util.Arrays.copyOf(l, n * InceptionV3.NUM_CLASSES);
    }
    float[] p = pool;
    if (keepPool && n * 2048 != p.length) {
      p = java.util.Arrays.copyOf(p, n * 2048);
    }
    return new FeatureSet(
        acc.statistics(), l, p, n, skipped[0], spatial ? spatialAcc.statistics() : null);
  }
}
