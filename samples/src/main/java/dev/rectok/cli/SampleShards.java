package dev.rectok.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code rectok sample}'s share of the index range in a job (issue 14): under {@code rectok launch}
 * or {@code torchrun} rank {@code r} of {@code W} takes shard {@code r/W}, the {@code r}-th of
 * {@code W} contiguous parts; an explicit {@code --shard} must say the same. Stateless.
 */
final class SampleShards {
  private SampleShards() {}

  /**
   * The shard {@code {i, n}} to generate.
   *
   * @param given {@code --shard} as parsed (0/1 when not given)
   * @param rank this process's rank
   * @param size the number of processes (1 outside a job)
   * @throws CommandLine.ParameterException when an explicit {@code --shard} disagrees with the job
   */
  static int[] of(CommandSpec spec, int[] given, int rank, int size) {
    if (size == 1) {
      return given;
    }
    boolean explicit = spec.commandLine().getParseResult().hasMatchedOption("--shard");
    if (explicit && (given[0] != rank || given[1] != size)) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "--shard "
              + given[0]
              + "/"
              + given[1]
              + " disagrees with this job (rank "
              + rank
              + " of "
              + size
              + ", so shard "
              + rank
              + "/"
              + size
              + "); leave --shard out under rectok launch");
    }
    return new int[] {rank, size};
  }
}
