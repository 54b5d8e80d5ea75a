package dev.rectok.cli;

import picocli.CommandLine.Option;

/** {@code --force}: allow replacing existing output files (refused otherwise, before any work). */
final class ForceOption {
  @Option(
      names = "--force",
      description =
          "replace existing output files (without it, an existing output is refused before any work)")
  boolean force;
}
