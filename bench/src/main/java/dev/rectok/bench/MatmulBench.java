package dev.rectok.bench;

import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * fp32 matmul 1024 x 1024 x 1024 through the SDK, result freed at once (a late free costs page
 * faults, see docs/runtime.md#heap-retention). GFLOP/s = 2 * 1024^3 / time; bench/run prints it.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class MatmulBench {
  static final int N = 1024;

  private Tensor a;
  private Tensor b;

  @Setup
  public void setup() {
    try (TorchGenerator gen = TorchGenerator.cpu(0)) {
      a = Tensor.randn(gen, N, N);
      b = Tensor.randn(gen, N, N);
    }
  }

  @TearDown
  public void tearDown() {
    a.close();
    b.close();
  }

  @Benchmark
  public void matmul(Blackhole bh) {
    try (Tensor c = a.matmul(b)) {
      bh.consume(c);
    }
  }
}
