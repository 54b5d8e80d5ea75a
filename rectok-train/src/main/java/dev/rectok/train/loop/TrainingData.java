package dev.rectok.train.loop;

import dev.rectok.image.AdmPreprocess;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.train.data.FashionMnist;
import dev.rectok.train.data.ImageDataset;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A training set as the trainers need it, whatever it is on disk: Fashion-MNIST IDX files (held in
 * memory, padded to the image size, see {@link FashionMnist#paddedImagesTensor}) or an
 * ImageNet-style folder or file list (decoded on worker threads with ADM crops). It hands out the
 * {@link BatchSource} (seeded shuffles and flips) and unflipped images by index (for latent
 * statistics and latent caches).
 *
 * <p><b>Ownership.</b> Owns the in-memory tensors and frees them in {@link #close}; batch sources
 * it returns borrow them. Not thread-safe.
 */
public final class TrainingData implements AutoCloseable {
  private final String description;
  private final Tensor images;
  private final Tensor labels;
  private final ImageDataset dataset;
  private final int size;

  private TrainingData(
      String description, Tensor images, Tensor labels, ImageDataset dataset, int size) {
    this.description = description;
    this.images = images;
    this.labels = labels;
    this.dataset = dataset;
    this.size = size;
  }

  /**
   * Opens {@code path}: a directory holding Fashion-MNIST's IDX files ({@code limit} caps the train
   * split, negative for all), an image folder (one sub-folder per class) or a file list.
   *
   * @throws IOException when nothing usable is there, with what was expected
   */
  public static TrainingData open(Path path, int imageSize, int limit) throws IOException {
    if (Files.isDirectory(path) && FashionMnist.isAvailable(path)) {
      FashionMnist fm = FashionMnist.load(path, true, limit);
      try (Scope s = Scope.open()) {
        Tensor x = fm.paddedImagesTensor(imageSize);
        Tensor y = fm.labelsTensor();
        return new TrainingData(
            "Fashion-MNIST train ("
                + fm.count()
                + " images, "
                + imageSize
                + "x"
                + imageSize
                + ") from "
                + path,
            s.keep(x),
            s.keep(y),
            null,
            fm.count());
      }
    }
    if (!Files.exists(path)) {
      throw new IOException(
          path
              + ": no such training data (expected a Fashion-MNIST IDX directory, an image folder or"
              + " a file list)");
    }
    ImageDataset d = ImageDataset.open(path, imageSize);
    if (d.size() == 0) {
      throw new IOException(path + ": no images found");
    }
    return new TrainingData(d.toString(), null, null, d, d.size());
  }

  /** Number of samples. */
  public int size() {
    return size;
  }

  /** What was opened, for logs. */
  public String description() {
    return description;
  }

  /**
   * Seeded batches of {@code batchSize} with random flips; {@code workers} decode files (ignored in
   * memory).
   */
  public BatchSource batches(int batchSize, long seed, int workers) {
    // issue 14: under data parallelism each rank reads its DistributedSampler shard
    var sampler =
        dev.rectok.train.distributed.DataParallel.worldSize() > 1
            ? dev.rectok.train.distributed.DataParallel.sampler(size, seed)
            : null;
    return images != null
        ? new TensorBatches(images, labels, batchSize, seed, true, sampler)
        : new LoaderBatches(dataset, batchSize, seed, workers, sampler);
  }

  /** Unflipped images (n, 3, S, S) in [−1, 1] of samples {@code indices}; owned by the caller. */
  public Tensor images(long[] indices) throws IOException {
    try (Scope s = Scope.open()) {
      if (images != null) {
        Tensor rows = images.indexSelect(0, Tensor.of(indices, indices.length));
        return s.keep(rows.size(1) == 1 ? rows.expand(-1, 3, -1, -1).contiguous() : rows);
      }
      List<Tensor> crops = new ArrayList<>();
      for (long i : indices) {
        crops.add(AdmPreprocess.toTensor(dataset.load(Math.toIntExact(i))));
      }
      return s.keep(Tensor.stack(crops.toArray(Tensor[]::new), 0));
    }
  }

  /** The first {@code n} samples' indices (all when {@code n} exceeds the size). */
  public long[] firstIndices(int n) {
    long[] idx = new long[Math.min(n, size)];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = i;
    }
    return idx;
  }

  @Override
  public void close() {
    if (images != null) {
      images.close();
      labels.close();
    }
  }
}
