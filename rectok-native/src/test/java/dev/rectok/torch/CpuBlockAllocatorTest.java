package dev.rectok.torch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.torch.Torch.CpuAllocatorStats;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/**
 * The CPU block allocator (docs/runtime.md#cpu-allocator): installed by default, large blocks are
 * reused by size class, contents are the tensor's, and it is safe from many threads.
 */
class CpuBlockAllocatorTest {
  private static CpuAllocatorStats stats() {
    return Torch.cpuAllocatorStats().orElseThrow(() -> new AssertionError("not installed"));
  }

  @Test
  void installedWithTheDocumentedDefaults() {
    CpuAllocatorStats s = stats();
    assertThat(s.minBytes()).isEqualTo(1L << 20);
    assertThat(s.cacheBytes()).isEqualTo(1L << 30);
  }

  @Test
  void aFreedBlockServesTheNextRequestOfItsSizeClass() {
    long n = 3L << 20; // 12 MiB of floats: a block of its own
    try (Scope s = Scope.open()) {
      assertThat(Tensor.ones(n).sum().item()).isEqualTo((double) n);
    }
    CpuAllocatorStats before = stats();
    try (Scope s = Scope.open()) {
      Tensor t = Tensor.full(new long[] {n}, 2.0, DType.FLOAT32, Device.CPU);
      CpuAllocatorStats during = stats();
      assertThat(during.hits()).isEqualTo(before.hits() + 1);
      assertThat(during.misses()).isEqualTo(before.misses());
      assertThat(during.live()).isEqualTo(before.live() + 12L * 1048576);
      assertThat(t.sum().item()).isEqualTo(2.0 * n); // the reused block holds the new values
    }
    CpuAllocatorStats after = stats();
    assertThat(after.live()).isEqualTo(before.live());
    assertThat(after.cached()).isEqualTo(before.cached());
  }

  @Test
  void smallTensorsStayWithMalloc() {
    CpuAllocatorStats before = stats();
    try (Scope s = Scope.open()) {
      Tensor t = Tensor.ones(1000);
      assertThat(stats().live()).isEqualTo(before.live());
      assertThat(t.sum().item()).isEqualTo(1000.0);
    }
  }

  @Test
  void trimReturnsTheCacheAndPeakResets() {
    try (Tensor t = Tensor.ones(5L << 18)) {
      assertThat(t.numel()).isEqualTo(5L << 18);
    }
    assertThat(stats().cached()).isPositive();
    Torch.cpuAllocatorTrim();
    assertThat(stats().cached()).isZero();
    Torch.cpuAllocatorResetPeak();
    CpuAllocatorStats s = stats();
    assertThat(s.peak()).isEqualTo(s.live());
    try (Tensor t = Tensor.ones(1L << 20)) {
      assertThat(stats().peak()).isGreaterThanOrEqualTo(s.live() + 4L * 1048576);
    }
  }

  @Test
  void kernelsThatAllocateRawScratchWork() {
    // oneDNN's convolution takes its scratch through raw_allocate/raw_deallocate
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.ones(4, 3, 256, 256);
      Tensor w = Tensor.ones(768, 3, 16, 16);
      Tensor y = F.conv2d(x, w, null, new long[] {16, 16}, new long[] {0, 0}, new long[] {1, 1}, 1);
      assertThat(y.shape()).containsExactly(4, 768, 16, 16);
      assertThat(y.max().item()).isEqualTo(768.0); // 3 x 16 x 16 ones per output
      assertThat(y.min().item()).isEqualTo(768.0);
    }
  }

  /** Blocks handed out and returned by several threads at once: each sees only its own values. */
  @Property(tries = 20)
  void threadsSeeTheirOwnBlocks(
      @ForAll @Size(min = 2, max = 6) List<@IntRange(min = 1, max = 6) Integer> mebibytes)
      throws Exception {
    CpuAllocatorStats before = stats();
    ExecutorService pool = Executors.newFixedThreadPool(mebibytes.size());
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int i = 0; i < mebibytes.size(); i++) {
        long n = mebibytes.get(i) * (1L << 18) + i; // a block of its own, sizes collide on purpose
        double v = i + 1;
        results.add(
            pool.submit(
                () -> {
                  boolean ok = true;
                  for (int r = 0; r < 10; r++) {
                    try (Scope s = Scope.open()) {
                      Tensor t = Tensor.full(new long[] {n}, v, DType.FLOAT32, Device.CPU);
                      ok &= t.min().item() == v && t.max().item() == v;
                    }
                  }
                  return ok;
                }));
      }
      for (Future<Boolean> f : results) {
        assertThat(f.get()).isTrue();
      }
    } finally {
      pool.shutdown();
    }
    assertThat(stats().live()).isEqualTo(before.live());
  }
}
