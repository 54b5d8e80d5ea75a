package dev.rectok.train.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.io.CheckpointFormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The on-disk feature shards and the linear probe that streams them. */
class ShardedProbeTest {

  private static float[] features(Random r, int n, int dim, long[] labels, int classes) {
    float[] x = new float[n * dim];
    for (int i = 0; i < n; i++) {
      labels[i] = r.nextInt(classes);
      for (int d = 0; d < dim; d++) {
        // class c sits at +6 on axis c % dim: separable; scale and offset exercise standardisation
        double centre = (d == labels[i] % dim) ? 6 : 0;
        x[i * dim + d] = (float) (50 * (centre + r.nextGaussian()) + 13);
      }
    }
    return x;
  }

  private static FeatureShards write(Path dir, float[] x, long[] y, int dim, int shardRows, int add)
      throws Exception {
    FeatureShards.Writer w = FeatureShards.create(dir, dim, shardRows);
    for (int from = 0; from < y.length; from += add) {
      int n = Math.min(add, y.length - from);
      w.add(
          java.util.Arrays.copyOfRange(x, from * dim, (from + n) * dim),
          java.util.Arrays.copyOfRange(y, from, from + n));
    }
    return w.commit();
  }

  @Property(tries = 15)
  void shardsReadBackWhatWasWrittenAndStreamingMomentsEqualTwoPass(
      @ForAll @IntRange(min = 1, max = 60) int n,
      @ForAll @IntRange(min = 1, max = 5) int dim,
      @ForAll @IntRange(min = 1, max = 17) int shardRows,
      @ForAll @IntRange(min = 1, max = 9) int add)
      throws Exception {
    Path dir = Files.createTempDirectory("shards");
    Random r = new Random(n * 31L + dim);
    long[] y = new long[n];
    float[] x = features(r, n, dim, y, 3);
    FeatureShards fs = write(dir, x, y, dim, shardRows, add);
    FeatureShards back = FeatureShards.open(dir);
    assertThat(back.count()).isEqualTo(n);
    assertThat(back.shards()).isEqualTo((n + shardRows - 1) / shardRows);
    int row = 0;
    for (int i = 0; i < back.shards(); i++) {
      try (Scope s = Scope.open()) {
        Tensor[] xy = back.read(i);
        float[] xs = xy[0].toFloatArray();
        long[] ys = xy[1].toLongArray();
        for (int k = 0; k < ys.length; k++, row++) {
          assertThat(ys[k]).isEqualTo(y[row]);
          for (int d = 0; d < dim; d++) {
            assertThat(xs[k * dim + d]).isEqualTo(x[row * dim + d]);
          }
        }
      }
    }
    assertThat(row).isEqualTo(n);
    LinearProbe.Moments m = LinearProbe.moments(fs);
    for (int d = 0; d < dim; d++) {
      double mean = 0;
      for (int i = 0; i < n; i++) {
        mean += x[i * dim + d];
      }
      mean /= n;
      double var = 0;
      for (int i = 0; i < n; i++) {
        var += (x[i * dim + d] - mean) * (x[i * dim + d] - mean);
      }
      assertThat(m.mean()[d]).isCloseTo(mean, within(1e-9 * (1 + Math.abs(mean))));
      assertThat(m.std()[d]).isCloseTo(Math.sqrt(var / n), within(1e-9 * (1 + Math.sqrt(var))));
    }
  }

  @Test
  void theStreamingProbeLearnsSeparableClassesDeterministically(@TempDir Path tmp)
      throws Exception {
    Random r = new Random(3);
    int dim = 4;
    long[] ytr = new long[500];
    float[] xtr = features(r, 500, dim, ytr, 4);
    long[] yte = new long[200];
    float[] xte = features(r, 200, dim, yte, 4);
    FeatureShards train = write(tmp.resolve("train"), xtr, ytr, dim, 128, 50);
    FeatureShards test = write(tmp.resolve("test"), xte, yte, dim, 64, 200);
    LinearProbe.Config cfg = LinearProbe.Config.defaults();
    LinearProbe.Result a = LinearProbe.fit(train, test, cfg);
    LinearProbe.Result b = LinearProbe.fit(train, test, cfg);
    assertThat(a).isEqualTo(b);
    assertThat(a.testAccuracy()).isGreaterThan(0.97);
    assertThat(a.trainAccuracy()).isGreaterThan(0.97);
    // the in-memory probe on the same data agrees on how separable it is
    try (Scope s = Scope.open()) {
      LinearProbe.Result mem =
          LinearProbe.fit(
              Tensor.of(xtr, 500, dim),
              Tensor.of(ytr, 500),
              Tensor.of(xte, 200, dim),
              Tensor.of(yte, 200),
              cfg);
      assertThat(a.testAccuracy()).isCloseTo(mem.testAccuracy(), within(0.03));
    }
    LinearProbe.Result other = LinearProbe.fit(train, test, cfg.withSeed(9));
    assertThat(other.finalLoss()).isNotEqualTo(a.finalLoss());
  }

  @Test
  void incompleteOrForeignCachesAreRefused(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("c");
    FeatureShards.Writer w = FeatureShards.create(dir, 2, 3);
    w.add(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, new long[] {0, 1, 0, 1});
    // one shard is on disk, but without the manifest the cache is not complete
    assertThat(Files.exists(dir.resolve("shard-00000.npz"))).isTrue();
    assertThat(FeatureShards.isComplete(dir)).isFalse();
    assertThatThrownBy(() -> FeatureShards.open(dir))
        .isInstanceOf(CheckpointFormatException.class)
        .hasMessageContaining("interrupted");
    w.commit();
    FeatureShards ok = FeatureShards.open(dir);
    assertThat(ok.count()).isEqualTo(4);
    Files.writeString(
        dir.resolve(FeatureShards.MANIFEST),
        "{\"format\":\"rectok-probe-features\",\"dim\":3,\"rows\":[3,1]}");
    FeatureShards wrong = FeatureShards.open(dir);
    assertThatThrownBy(() -> wrong.read(0))
        .isInstanceOf(CheckpointFormatException.class)
        .hasMessageContaining("shard-00000.npz");
    Files.writeString(dir.resolve(FeatureShards.MANIFEST), "{\"format\":\"other\"}");
    assertThatThrownBy(() -> FeatureShards.open(dir)).hasMessageContaining("not a probe feature");
    Files.writeString(
        dir.resolve(FeatureShards.MANIFEST),
        "{\"format\":\"rectok-probe-features\",\"dim\":2,\"rows\":[3,1,5]}");
    assertThatThrownBy(() -> FeatureShards.open(dir)).hasMessageContaining("shard-00002.npz");
    assertThatThrownBy(() -> w.add(new float[] {1}, new long[] {0, 1}))
        .isInstanceOf(IllegalArgumentException.class);
    // a new extraction into the same folder removes the old shards and the manifest first
    FeatureShards.create(dir, 2, 3);
    assertThat(FeatureShards.isComplete(dir)).isFalse();
    assertThat(Files.exists(dir.resolve("shard-00000.npz"))).isFalse();
  }
}
