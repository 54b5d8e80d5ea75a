package dev.rectok.cli;

import dev.rectok.eval.KernelInceptionDistance;
import picocli.CommandLine.Option;

/**
 * KID's settings under torch-fidelity's command-line names ({@code --kid-subsets}, {@code
 * --kid-subset-size}); the kernel (degree 3, γ = 1/D, coef0 1) and the seed (2020) are
 * torch-fidelity's defaults. Ranges are in {@link OptionChecks#BOUNDS}. Not thread-safe (picocli
 * fills it).
 */
final class KidOptions {
  @Option(
      names = "--kid-subsets",
      description = "KID: number of subsets (torch-fidelity's default: ${DEFAULT-VALUE})")
  int subsets = KernelInceptionDistance.Options.DEFAULTS.subsets();

  @Option(
      names = "--kid-subset-size",
      description =
          "KID: images per subset; both sets need at least this many (default: ${DEFAULT-VALUE})")
  int subsetSize = KernelInceptionDistance.Options.DEFAULTS.subsetSize();

  KernelInceptionDistance.Options get() {
    return KernelInceptionDistance.Options.DEFAULTS.withSubsets(subsets, subsetSize);
  }
}
