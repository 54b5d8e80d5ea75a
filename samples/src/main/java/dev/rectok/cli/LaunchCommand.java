package dev.rectok.cli;

import dev.rectok.torch.distributed.DistributedEnv;
import dev.rectok.torch.distributed.LocalLauncher;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code rectok launch --nproc-per-node N [--nnodes M --node-rank R --master-addr A --master-port
 * P] -- train ...}: this machine's processes of a data-parallel job, as {@code torchrun} starts
 * them (see {@link LocalLauncher}).
 */
@Command(
    name = "launch",
    description =
        "Start a data-parallel job's local processes (torchrun's environment), e.g. "
            + "launch --nproc-per-node 2 -- train tokenizer ...")
final class LaunchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--nproc-per-node",
      required = true,
      description = "processes on this machine (>= 1)")
  int nproc;

  @Option(names = "--nnodes", description = "machines (default: ${DEFAULT-VALUE})")
  int nnodes = 1;

  @Option(
      names = "--node-rank",
      description = "this machine's index, 0..nnodes-1 (default: ${DEFAULT-VALUE})")
  int nodeRank = 0;

  @Option(names = "--master-addr", description = "host of rank 0 (default: ${DEFAULT-VALUE})")
  String masterAddr = "127.0.0.1";

  @Option(
      names = "--master-port",
      description = "port of rank 0's store, 1..65535 (default: ${DEFAULT-VALUE})")
  int masterPort = DistributedEnv.DEFAULT_PORT;

  @Parameters(
      arity = "1..*",
      paramLabel = "COMMAND",
      description = "the rectok command every process runs, after --")
  List<String> command = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    if (command.get(0).equals("launch")) {
      throw new ParameterException(
          spec.commandLine(), "COMMAND: a launched process cannot launch again");
    }
    LocalLauncher launcher;
    try {
      launcher =
          new LocalLauncher(
              childCommand(command),
              nproc,
              nnodes,
              nodeRank,
              masterAddr,
              masterPort,
              Duration.ofSeconds(10),
              Map.of());
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    return launcher.run(System.out);
  }

  /**
   * This JVM's own command line with {@code args} instead of its arguments (the same java, paths
   * and options).
   */
  static List<String> childCommand(List<String> args) {
    ProcessHandle.Info info = ProcessHandle.current().info();
    String javaBin =
        info.command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    String[] own = info.arguments().orElse(new String[0]);
    List<String> cmd = new ArrayList<>();
    cmd.add(javaBin);
    int main = -1;
    for (int i = 0; i < own.length; i++) {
      if (own[i].endsWith("dev.rectok.cli.RecTokCli")) {
        main = i;
        break;
      }
    }
    if (main >= 0) {
      cmd.addAll(List.of(own).subList(0, main + 1));
    } else { // not started by bin/rectok: rebuild from the module path
      cmd.add("--enable-native-access=dev.rectok.torch");
      String lib = System.getProperty("rectok.native.lib");
      if (lib != null) {
        cmd.add("-Drectok.native.lib=" + lib);
      }
      String modules = System.getProperty("jdk.module.path");
      if (modules != null && !modules.isBlank()) {
        cmd.addAll(List.of("-p", modules, "-m", "dev.rectok.cli/dev.rectok.cli.RecTokCli"));
      } else {
        cmd.addAll(
            List.of("-cp", System.getProperty("java.class.path"), "dev.rectok.cli.RecTokCli"));
      }
    }
    cmd.addAll(args);
    return cmd;
  }
}
