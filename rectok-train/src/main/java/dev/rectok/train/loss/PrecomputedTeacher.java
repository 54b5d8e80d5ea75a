package dev.rectok.train.loss;

import dev.rectok.api.DType;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.io.HostTensor;
import dev.rectok.torch.io.SafeTensors;
import dev.rectok.torch.io.SafeTensorsFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link FeatureTeacher} that reads features computed beforehand from safetensors shards, so a
 * large run need not hold the teacher model in memory. Each shard holds tensors named {@code
 * features.<sampleIndex>}, each (N, D); any number of shards may be given and an index may live in
 * any of them (an index present in two shards is an error). Other tensor names are ignored.
 * Features are returned as float32 on the images' device; the pixels are not used.
 *
 * <p><b>Ownership.</b> The teacher keeps the shards memory-mapped until {@link #close}.
 * <b>Threading.</b> {@link #features} may be called from several threads at once; it must not race
 * with {@link #close}.
 */
public final class PrecomputedTeacher implements FeatureTeacher {
  /** Prefix of the tensor names. */
  public static final String PREFIX = "features.";

  private final List<SafeTensorsFile> shards = new ArrayList<>();
  private final Map<Long, SafeTensorsFile> byIndex = new HashMap<>();

  /**
   * Opens and indexes the shards.
   *
   * @throws IOException if a shard cannot be read (those already opened are closed)
   * @throws IllegalArgumentException if a sample index appears in two shards
   */
  public PrecomputedTeacher(List<Path> shardFiles) throws IOException {
    try {
      for (Path p : shardFiles) {
        SafeTensorsFile f = SafeTensors.open(p);
        shards.add(f);
        for (String name : f.names()) {
          if (!name.startsWith(PREFIX)) {
            continue;
          }
          long index;
          try {
            index = Long.parseLong(name.substring(PREFIX.length()));
          } catch (NumberFormatException e) {
            continue;
          }
          SafeTensorsFile prev = byIndex.putIfAbsent(index, f);
          if (prev != null) {
            throw new IllegalArgumentException(
                "sample " + index + " has features in both " + prev.path() + " and " + p);
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  /** Number of samples with features. */
  public int size() {
    return byIndex.size();
  }

  /**
   * Stacks the stored features of {@code sampleIndices} into (B, N, D).
   *
   * @throws IllegalArgumentException if an index has no features or the shapes differ
   */
  @Override
  public Tensor features(Tensor images, long[] sampleIndices) {
    if (images != null && images.size(0) != sampleIndices.length) {
      throw new IllegalArgumentException(
          "batch of " + images.size(0) + " images but " + sampleIndices.length + " sample indices");
    }
    try (Scope s = Scope.open()) {
      Tensor[] rows = new Tensor[sampleIndices.length];
      long[] shape = null;
      for (int i = 0; i < sampleIndices.length; i++) {
        SafeTensorsFile f = byIndex.get(sampleIndices[i]);
        if (f == null) {
          throw new IllegalArgumentException(
              "no precomputed teacher features for sample "
                  + sampleIndices[i]
                  + " in "
                  + shards.size()
                  + " shard(s) ("
                  + byIndex.size()
                  + " samples indexed)");
        }
        HostTensor h = f.get(PREFIX + sampleIndices[i]);
        if (shape == null) {
          shape = h.shape();
        } else if (!java.util.Arrays.equals(shape, h.shape())) {
          throw new IllegalArgumentException(
              "features of sample "
                  + sampleIndices[i]
                  + " have shape "
                  + java.util.Arrays.toString(h.shape())
                  + ", others "
                  + java.util.Arrays.toString(shape));
        }
        rows[i] = Tensor.fromHost(h).to(DType.FLOAT32);
      }
      Tensor out = Tensor.stack(rows, 0);
      if (images != null) {
        out = out.to(images.device());
      }
      return s.keep(out);
    }
  }

  @Override
  public void close() {
    shards.forEach(SafeTensorsFile::close);
  }
}
