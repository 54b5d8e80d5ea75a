package dev.rectok.bench;

import dev.rectok.torch.Torch;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Cost of one FFM downcall into the shim: {@code rt_noop} (does nothing) and {@code rt_abi_version}
 * (returns a constant). Both are bound with {@code Linker.Option.critical(false)}. Compared with
 * the same two functions called through a function pointer from C++ ({@code bench_direct}).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class DowncallBench {

  @Setup
  public void load() {
    Torch.noop(); // loads LibTorch and binds the handle outside the measurement
    Torch.abiVersion();
  }

  @Benchmark
  public void noop() {
    Torch.noop();
  }

  @Benchmark
  public int abiVersion() {
    return Torch.abiVersion();
  }
}
