package dev.rectok.cli;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.api.Precision;
import dev.rectok.torch.nn.InferencePrecision;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code --precision fp32|bf16|auto} (issue 13), shared by the inference commands. Resolving it
 * refuses bf16 on a CPU without native bf16 as a usage error (exit 2) naming the option.
 */
final class PrecisionOption {
  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  @Option(
      names = "--precision",
      description =
          "fp32, bf16 or auto: the networks' GEMMs and attention in bfloat16 "
              + "(weights converted once at load; norms, softmax statistics and sampler state stay float32); auto picks bf16 "
              + "on CUDA and on CPUs with AVX-512 BF16 or AMX (default: ${DEFAULT-VALUE})")
  String precision = "fp32";

  /** The parsed choice. */
  Precision get() {
    try {
      return Precision.parse(precision);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--precision must be fp32, bf16 or auto, got '" + precision + "'");
    }
  }

  /** The GEMM dtype on {@code device}; a usage error when bf16 is not supported there. */
  DType resolve(Device device) {
    try {
      return InferencePrecision.resolve(get(), device);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--precision: " + e.getMessage());
    }
  }
}
