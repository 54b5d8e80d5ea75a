package dev.rectok.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of {@code bin/rectok}. Runs each command on the calling thread; not meant for
 * concurrent use.
 */
@Command(
    name = "rectok",
    mixinStandardHelpOptions = true,
    version = "rectok 0.1.0",
    description = "RecTok for Java: tokenizers and generators on LibTorch.",
    subcommands = {
      DoctorCommand.class,
      InspectCommand.class,
      CheckGoldenCommand.class,
      ConvertCommand.class,
      TokenizerCommands.Encode.class,
      TokenizerCommands.Decode.class,
      TokenizerCommands.Reconstruct.class,
      GenerateCommand.class,
      StatsCommand.class,
      BenchCommand.class,
      DemoCommand.class,
      TrainCommand.class,
      AblationCommand.class,
      // --- issue 14: data-parallel launcher ---
      LaunchCommand.class,

      /* issue 12: DINOv3 teacher */ TeacherCommands.Features.class,

      /* --- issue 11: evaluation like the paper --- */ SampleCommand.class,
      EvalCommand.class
    })
public final class RecTokCli implements Runnable {

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  public static void main(String[] args) {
    // the SDK logs through System.Logger (java.util.logging here): one line per record
    if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
      System.setProperty("java.util.logging.SimpleFormatter.format", "[%4$s] %5$s%6$s%n");
    }
    System.exit(commandLine().execute(args));
  }

  /** The configured command line (also what tests drive). */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new RecTokCli());
    // --- issue 10: one exit-code scheme (ExitCodes), option ranges checked before any work ---
    ExitCodes.install(cli);
    cli.setExecutionStrategy(OptionChecks::executeChecked);
    return cli;
  }
}
