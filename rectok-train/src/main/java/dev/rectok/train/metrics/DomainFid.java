package dev.rectok.train.metrics;

import dev.rectok.eval.FrechetDistance;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Objects;
import java.util.function.Function;

/**
 * A <em>domain</em> FID: the {@linkplain FrechetDistance Fréchet distance} between the feature
 * statistics of two image sets, with features from a caller-supplied extractor (for the demo, a
 * Fashion-MNIST teacher ViT's pooled features) instead of Inception-v3. It ranks models trained on
 * the same domain with the same extractor; it is <b>not</b> the Inception FID of the papers and its
 * values are not comparable to published numbers (nor across extractors).
 *
 * <p>The extractor maps an image batch (B, 3, H, W) in {@code [-1, 1]} to pooled features (B, D).
 * It runs under inference mode, one batch at a time, each inside its own {@link Scope}: every
 * tensor it creates is freed after the batch. It must return a new tensor (not its input).
 *
 * <p>Ownership of sources: images passed as a {@link Tensor} stay the caller's. With an {@link
 * Iterable}, batches that already existed (e.g. a list) stay the caller's; batches the iterator
 * creates while it is being advanced (e.g. decoded or generated on the fly) are created inside the
 * per-batch scope and freed after use. Stateless; thread-safe if the extractor is.
 */
public final class DomainFid {
  private DomainFid() {}

  /** Feature statistics of image batches. */
  public static FrechetDistance.Statistics statistics(
      Function<Tensor, Tensor> extractor, Iterable<Tensor> batches) {
    Objects.requireNonNull(extractor, "extractor");
    Objects.requireNonNull(batches, "batches");
    FrechetDistance.Accumulator acc = new FrechetDistance.Accumulator();
    Iterator<Tensor> it = batches.iterator();
    try (GradMode g = GradMode.inferenceMode()) {
      while (true) {
        try (Scope s = Scope.open()) {
          if (!it.hasNext()) {
            break;
          }
          Tensor images = Objects.requireNonNull(it.next(), "null batch");
          Tensor features = extractor.apply(images);
          if (features == null || features == images) {
            throw new IllegalArgumentException("the extractor must return a new (B, D) tensor");
          }
          try {
            if (features.dim() != 2 || features.size(0) != images.size(0)) {
              throw new IllegalArgumentException(
                  "the extractor must return (B, D) features for a batch of "
                      + images.size(0)
                      + ", got "
                      + Arrays.toString(features.shape()));
            }
            acc.add(features);
          } finally {
            features.close(); // also when it escaped the scope
          }
        }
      }
    }
    return acc.statistics();
  }

  /**
   * Feature statistics of images (N, ...) taken {@code batchSize} at a time. The caller keeps
   * {@code images}.
   */
  public static FrechetDistance.Statistics statistics(
      Function<Tensor, Tensor> extractor, Tensor images, int batchSize) {
    return statistics(extractor, batches(images, batchSize));
  }

  /** Domain FID between two sources of image batches. */
  public static double distance(
      Function<Tensor, Tensor> extractor, Iterable<Tensor> a, Iterable<Tensor> b) {
    return FrechetDistance.distance(statistics(extractor, a), statistics(extractor, b));
  }

  /**
   * Domain FID between two image tensors (N, ...) and (M, ...), processed {@code batchSize} at a
   * time.
   */
  public static double distance(
      Function<Tensor, Tensor> extractor, Tensor a, Tensor b, int batchSize) {
    return FrechetDistance.distance(
        statistics(extractor, a, batchSize), statistics(extractor, b, batchSize));
  }

  /**
   * Views of {@code images} along dim 0, created lazily (so the per-batch scope frees each one).
   */
  private static Iterable<Tensor> batches(Tensor images, int batchSize) {
    Objects.requireNonNull(images, "images");
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
    }
    if (images.dim() < 1 || images.size(0) < 1) {
      throw new IllegalArgumentException(
          "images must be a non-empty batch (N, ...), got " + Arrays.toString(images.shape()));
    }
    long n = images.size(0);
    return () ->
        new Iterator<>() {
          private long next;

          @Override
          public boolean hasNext() {
            return next < n;
          }

          @Override
          public Tensor next() {
            if (next >= n) {
              throw new java.util.NoSuchElementException();
            }
            long len = Math.min(batchSize, n - next);
            Tensor view = images.narrow(0, next, len);
            next += len;
            return view;
          }
        };
  }
}
