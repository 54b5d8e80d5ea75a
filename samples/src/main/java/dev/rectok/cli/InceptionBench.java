package dev.rectok.cli;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.models.inception.InceptionV3;
import dev.rectok.models.inception.InceptionV3.Feature;
import dev.rectok.models.inception.InceptionWeights;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.Torch;
import dev.rectok.torch.TorchGenerator;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rectok bench inception --batch B}: Inception feature throughput (256×256 uint8 images
 * through the TF1 resize to 299, pool features and logits), with the recipe's weights unless a
 * weight file is given. Prints {@code images_per_second=} last.
 */
@Command(
    name = "inception",
    description =
        "Inception (torch-fidelity) feature-extraction throughput; prints images_per_second= last.")
final class InceptionBench implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin BenchCommand.Common common;

  @Option(names = "--size", description = "input image side (default: ${DEFAULT-VALUE})")
  int size = 256;

  @Option(
      names = "--inception",
      description = "weight file (default: the SplitMix64 recipe of the golden files; same cost)")
  Path weights;

  @Mixin DeviceOption device;

  @Override
  public Integer call() throws Exception {
    if (common.batch < 1 || common.batch > 4096 || size < 1 || size > 4096) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--batch and --size must be in 1..4096");
    }
    if (common.threads != null) {
      Torch.setNumThreads(common.threads);
    }
    Device dev = device.get();
    try (InceptionV3 net =
            weights != null ? InceptionWeights.load(weights) : InceptionWeights.fromRecipe(7001);
        TorchGenerator g = TorchGenerator.cpu(common.seed)) {
      net.to(DType.FLOAT32, dev);
      try (Tensor images =
          Tensor.randint(
              0, 256, new long[] {common.batch, 3, size, size}, g, DType.UINT8, Device.CPU)) {
        double[] ms =
            BenchCommand.time(
                common.warmup,
                common.iters,
                i -> {
                  try (Scope s = Scope.open()) {
                    net.features(images, EnumSet.of(Feature.F2048, Feature.LOGITS_UNBIASED));
                    if (dev.isCuda()) {
                      Torch.cudaSynchronize(Math.max(0, dev.index()));
                    }
                  }
                });
        double med = BenchCommand.median(ms);
        System.out.printf(
            "inception, batch %d, %dx%d uint8 -> 299, %d threads, %s%n",
            common.batch, size, size, Torch.numThreads(), dev);
        System.out.printf("ms_per_batch=%.2f%n", med);
        if (BenchCommand.lastCpuMs.length == ms.length) {
          // CPU time of the process: on a shared machine, the work done rather than the share of
          // cores obtained
          System.out.printf(
              "cpu_ms_per_image=%.1f%n",
              BenchCommand.median(BenchCommand.lastCpuMs) / common.batch);
        }
        System.out.printf("peak_rss_mb=%.0f%n", BenchCommand.peakRssMb());
        System.out.printf("images_per_second=%.4f%n", common.batch / (med / 1000.0));
      }
    }
    return 0;
  }
}
