package dev.rectok.train.generator;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.api.Progress;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.Torch;
import dev.rectok.torch.distributed.DistributedContext;
import dev.rectok.train.distributed.DataParallel;
import dev.rectok.train.loop.TensorBatches;
import dev.rectok.train.loop.TrainLoop;
import dev.rectok.train.run.RunDirectory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * One rank of a data-parallel generator run through {@link TrainLoop} (checkpoint every 2 steps),
 * as {@code rectok train generator} does it: joins from the torchrun environment, rank 0 writes the
 * run. Args: runDir maxSteps timeoutSeconds. Prints "rectok-child: &lt;message&gt;" and exits 1 on
 * failure.
 */
public final class DpRunChild {
  private DpRunChild() {}

  public static void main(String[] args) {
    Torch.setNumThreads(1);
    Path dir = Path.of(args[0]);
    long maxSteps = Long.parseLong(args[1]);
    Duration timeout = Duration.ofSeconds(Long.parseLong(args[2]));
    int code = 0;
    try (DistributedContext ctx = DistributedContext.fromEnvironment(System.getenv(), timeout)) {
      DataParallel.install(ctx);
      GeneratorTrainingConfig cfg = TinyGen.config().batchSize(4).epochs(50).build();
      try (TinyGen.FixedLatents latents = new TinyGen.FixedLatents(64, 1);
          Scope s = Scope.open();
          RunDirectory run =
              RunDirectory.open(DataParallel.runDirFor(dir), Map.of("kind", "dp-test"), 3);
          GeneratorTrainer t = new GeneratorTrainer(cfg, latents, Device.CPU)) {
        long[] labels = new long[64];
        for (int i = 0; i < 64; i++) {
          labels[i] = i % 10;
        }
        Tensor images = Tensor.zeros(new long[] {64, 1, 32, 32}, DType.FLOAT32, Device.CPU);
        Tensor y = Tensor.of(labels);
        TensorBatches data = new TensorBatches(images, y, 4, 7, false, DataParallel.sampler(64, 7));
        TrainLoop.Outcome o =
            TrainLoop.run(
                run,
                data,
                t,
                TrainLoop.Limits.epochs(50).withMaxSteps(maxSteps).withIntervals(2, 1),
                Progress.NONE);
        System.out.println(
            "rectok-child: rank "
                + ctx.rank()
                + " done at step "
                + o.steps()
                + " (resumed at "
                + o.resumedAtStep()
                + ")");
      }
      ctx.barrier();
    } catch (Exception | Error e) {
      System.out.println("rectok-child: " + e.getMessage());
      System.out.flush();
      code = 1;
    }
    System.exit(code);
  }
}
