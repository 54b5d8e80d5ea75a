package dev.rectok.bench;

import dev.rectok.torch.F;
import dev.rectok.torch.Foreach;
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
 * One training step of a 784 -> 256 -> 10 MLP with GELU, batch 128: forward, cross-entropy,
 * backward, one fused AdamW call over the four parameters, gradients reset to none. Every
 * intermediate is freed by the step's {@link dev.rectok.torch.Scope}. bench_direct.cpp runs the
 * same ops in ATen.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class MlpStepBench {
  static final int BATCH = 128;
  static final int IN = 784;
  static final int HIDDEN = 256;
  static final int CLASSES = 10;

  private Tensor x;
  private Tensor y;
  private Tensor[] params;
  private Tensor[] expAvgs;
  private Tensor[] expAvgSqs;
  private long[] steps;

  private static Tensor param(TorchGenerator gen, double scale, long... shape) {
    try (Tensor r = Tensor.randn(gen, shape)) {
      return r.mul(scale).requiresGrad_(true);
    }
  }

  @Setup
  public void setup() {
    try (TorchGenerator gen = TorchGenerator.cpu(0)) {
      x = Tensor.randn(gen, BATCH, IN);
      y =
          Tensor.randint(
              0,
              CLASSES,
              new long[] {BATCH},
              gen,
              dev.rectok.api.DType.INT64,
              dev.rectok.api.Device.CPU);
      params =
          new Tensor[] {
            param(gen, 1 / Math.sqrt(IN), HIDDEN, IN), param(gen, 0.01, HIDDEN),
            param(gen, 1 / Math.sqrt(HIDDEN), CLASSES, HIDDEN), param(gen, 0.01, CLASSES)
          };
    }
    expAvgs = new Tensor[params.length];
    expAvgSqs = new Tensor[params.length];
    for (int i = 0; i < params.length; i++) {
      expAvgs[i] = Tensor.zeros(params[i].shape());
      expAvgSqs[i] = Tensor.zeros(params[i].shape());
    }
    steps = new long[params.length];
  }

  @TearDown
  public void tearDown() {
    for (Tensor[] group : new Tensor[][] {params, expAvgs, expAvgSqs}) {
      for (Tensor t : group) {
        t.close();
      }
    }
    x.close();
    y.close();
  }

  @Benchmark
  public void trainStep(Blackhole bh) {
    try (dev.rectok.torch.Scope step = dev.rectok.torch.Scope.open()) {
      Tensor h = F.gelu(F.linear(x, params[0], params[1]), false);
      Tensor logits = F.linear(h, params[2], params[3]);
      Tensor loss = F.crossEntropy(logits, y);
      loss.backward();
      Foreach.adamwStep(params, expAvgs, expAvgSqs, steps, 1e-3, 0.9, 0.999, 1e-8, 0.01);
      for (Tensor p : params) {
        p.setGrad(null); // zero_grad(set_to_none=True)
      }
      bh.consume(loss);
    }
  }
}
