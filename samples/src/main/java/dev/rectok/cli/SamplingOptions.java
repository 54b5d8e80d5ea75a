package dev.rectok.cli;

import dev.rectok.api.GenerateOptions;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * {@code --steps --method --guidance --scale}, shared by {@code generate} and {@code sample}: the
 * sampler's settings and their defaults in one place. {@link OptionChecks} has validated the values
 * (listed names, ranges) before a command runs.
 */
final class SamplingOptions {
  @Option(
      names = "--steps",
      description = "time-grid points, steps + 1 (default: ${DEFAULT-VALUE})")
  int gridPoints = 150;

  @Option(names = "--method", description = "euler or heun (default: ${DEFAULT-VALUE})")
  String method = "euler";

  @Option(
      names = "--guidance",
      description = "none, cfg or autoguidance (default: ${DEFAULT-VALUE})")
  String guidance = "none";

  @Option(
      names = "--scale",
      description = "guidance weight (default: 1.29 for autoguidance, 1.5 for cfg)")
  Double scale;

  /** The guidance strategy named by {@code --guidance}. */
  GenerateOptions.GuidanceKind kind() {
    return GenerateOptions.GuidanceKind.valueOf(guidance.toUpperCase(Locale.ROOT));
  }

  /**
   * {@code --scale}, else the reference's default for the strategy (1.29 AutoGuidance, 1.5 CFG).
   */
  double weight() {
    if (scale != null) {
      return scale;
    }
    return switch (kind()) {
      case AUTOGUIDANCE -> 1.29;
      case CFG -> 1.5;
      default -> 1.0;
    };
  }

  /** A builder with the grid, the integrator and the guidance set. */
  GenerateOptions.Builder builder() {
    return GenerateOptions.builder()
        .gridPoints(gridPoints)
        .method(GenerateOptions.Method.valueOf(method.toUpperCase(Locale.ROOT)))
        .guidance(kind(), weight());
  }
}
