package dev.rectok.bench;

import dev.rectok.torch.Tensor;
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
 * Round trip of a tiny op: {@code a.add(b)} on two 4-element float32 tensors, result freed, once
 * with an explicit {@code close()} and once by a {@link dev.rectok.torch.Scope}. Dominated by
 * LibTorch's own dispatch and allocation; the C++ baseline is {@code at::add} + destructor.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class SmallOpBench {
  private Tensor a;
  private Tensor b;

  @Setup
  public void setup() {
    a = Tensor.of(new float[] {1, 2, 3, 4}, 4);
    b = Tensor.of(new float[] {5, 6, 7, 8}, 4);
  }

  @TearDown
  public void tearDown() {
    a.close();
    b.close();
  }

  @Benchmark
  public void addClose(Blackhole bh) {
    try (Tensor c = a.add(b)) {
      bh.consume(c);
    }
  }

  @Benchmark
  public void addInScope(Blackhole bh) {
    try (dev.rectok.torch.Scope s = dev.rectok.torch.Scope.open()) {
      bh.consume(a.add(b));
    }
  }
}
