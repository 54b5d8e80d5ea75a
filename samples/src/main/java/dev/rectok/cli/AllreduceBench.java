package dev.rectok.cli;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.models.dit.DiTConfig;
import dev.rectok.models.dit.DiTwDDTHead;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.distributed.DistributedDataParallel;
import dev.rectok.torch.nn.Parameter;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code rectok launch --nproc-per-node N -- bench allreduce --preset DiTDDT_s}: the time of one
 * data-parallel gradient averaging (DDP's buckets over Gloo) of a DiT^DH's gradient set (issue 14).
 */
@Command(
    name = "allreduce",
    description =
        "Gradient all-reduce time of a DiT^DH preset's parameters (run it under rectok launch).")
final class AllreduceBench implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--preset", description = "DiT^DH preset (default: ${DEFAULT-VALUE})")
  String preset = "DiTDDT_s";

  @Option(
      names = "--repeats",
      description = "timed repetitions, 1..1000 (default: ${DEFAULT-VALUE})")
  int repeats = 5;

  @Override
  public Integer call() throws Exception {
    if (repeats < 1 || repeats > 1000) {
      throw new ParameterException(
          spec.commandLine(), "--repeats must be in 1..1000, got " + repeats);
    }
    try (DistributedSession dist = DistributedSession.open()) {
      // the preset on RecTok's 256 px, 16x16x128 latents, as the reference trains it
      DiTConfig cfg =
          DiTConfig.preset(preset).toBuilder()
              .imgSize(256)
              .tokenizerPatchSize(16)
              .tokenChannels(128)
              .build();
      try (TorchGenerator g = TorchGenerator.cpu(0);
          DiTwDDTHead model = new DiTwDDTHead(cfg, g)) {
        List<Parameter> params = model.parameters();
        long numel = params.stream().mapToLong(Parameter::numel).sum();
        for (Parameter p : params) {
          try (Scope s = Scope.open()) {
            p.data().setGrad(Tensor.randn(p.shape(), g, DType.FLOAT32, Device.CPU));
          }
        }
        try (DistributedDataParallel ddp =
            new DistributedDataParallel(
                dev.rectok.train.distributed.DataParallel.current(), params)) {
          ddp.averageGradients(); // warm-up: buffers, connections
          double[] ms = new double[repeats];
          for (int i = 0; i < repeats; i++) {
            dist.barrier();
            long t0 = System.nanoTime();
            ddp.averageGradients();
            ms[i] = (System.nanoTime() - t0) / 1e6;
          }
          Arrays.sort(ms);
          if (dist.isMain()) {
            System.out.printf(
                "allreduce %s: %d parameters (%.1f MiB float32) in %d buckets over %d processes: "
                    + "median %.1f ms, min %.1f ms (%d repeats)%n",
                preset,
                numel,
                numel * 4 / 1048576.0,
                ddp.buckets().size(),
                dev.rectok.train.distributed.DataParallel.worldSize(),
                ms[repeats / 2],
                ms[0],
                repeats);
          }
        }
      }
      dist.done();
    }
    return 0;
  }
}
