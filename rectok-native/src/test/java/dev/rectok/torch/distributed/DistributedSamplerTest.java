package dev.rectok.torch.distributed;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.api.Device;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** {@link DistributedSampler} against PyTorch's rules, restated independently here. */
class DistributedSamplerTest {

  @Property(tries = 200)
  void shardsFollowPyTorchsPaddingAndStride(
      @ForAll @IntRange(min = 1, max = 60) int n,
      @ForAll @IntRange(min = 1, max = 5) int world,
      @ForAll boolean dropLast,
      @ForAll boolean shuffle,
      @ForAll @IntRange(min = 0, max = 1000) int seed,
      @ForAll @IntRange(min = 0, max = 3) int epoch) {
    int numSamples =
        dropLast && n % world != 0
            ? (int) Math.ceil((n - world) / (double) world)
            : (int) Math.ceil(n / (double) world);
    int[] order = new DistributedSampler(n, 1, 0, shuffle, seed, false).order(epoch);
    // PyTorch: indices += indices[:padding] (or repeated), else truncated; then
    // indices[rank:total:world]
    int total = numSamples * world;
    int[] padded = new int[total];
    for (int i = 0; i < total; i++) {
      padded[i] = i < n ? order[i] : order[(i - n) % n];
    }
    Set<Integer> covered = new HashSet<>();
    for (int r = 0; r < world; r++) {
      DistributedSampler s = new DistributedSampler(n, world, r, shuffle, seed, dropLast);
      int[] mine = s.indices(epoch);
      assertThat(mine).hasSize(numSamples);
      for (int i = 0; i < numSamples; i++) {
        assertThat(mine[i]).isEqualTo(padded[r + i * world]);
        covered.add(mine[i]);
      }
    }
    if (!dropLast) {
      assertThat(covered).hasSize(n); // every sample at least once
    } else {
      assertThat(covered).hasSize(total);
    }
  }

  @Property(tries = 50)
  void theUnionOfTheRanksBatchesIsTheOneRankGlobalBatch(
      @ForAll @IntRange(min = 1, max = 4) int world,
      @ForAll @IntRange(min = 1, max = 4) int localBatch,
      @ForAll @IntRange(min = 0, max = 99) int seed) {
    int n = world * localBatch * 5; // divisible: no padding
    int[] global = new DistributedSampler(n, 1, 0, true, seed, false).indices(2);
    for (int r = 0; r < world; r++) {
      int[] mine = new DistributedSampler(n, world, r, true, seed, false).indices(2);
      for (int k = 0; k < 5; k++) {
        for (int j = 0; j < localBatch; j++) {
          // rank r's j-th sample of batch k is row r + j·world of the global batch k
          assertThat(mine[k * localBatch + j])
              .isEqualTo(global[k * localBatch * world + r + j * world]);
        }
      }
    }
  }

  @Example
  void theOrderIsAtensRandpermSeededWithSeedPlusEpoch() {
    int[] order = new DistributedSampler(1000, 2, 0, true, 41, false).order(1);
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(42)) {
      long[] ref = Tensor.randperm(1000, g, Device.CPU).toLongArray();
      assertThat(Arrays.stream(order).asLongStream().toArray()).isEqualTo(ref);
    }
    assertThat(new DistributedSampler(5, 1, 0, false, 0, false).order(3))
        .containsExactly(0, 1, 2, 3, 4);
    // a different epoch, a different order
    assertThat(new DistributedSampler(1000, 2, 0, true, 41, false).order(2)).isNotEqualTo(order);
  }

  @Example
  void paddingRepeatsTheHeadOfTheOrder() {
    // n = 5, 3 replicas: total 6, padded with order[0]; rank 2 gets positions 2 and 5
    DistributedSampler s = new DistributedSampler(5, 3, 2, false, 0, false);
    assertThat(s.indices(0)).containsExactly(2, 0);
    assertThat(new DistributedSampler(5, 3, 0, false, 0, true).indices(0)).containsExactly(0);
  }
}
