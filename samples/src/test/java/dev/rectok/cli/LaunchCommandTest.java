package dev.rectok.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code rectok launch}: options checked by name (usage errors, exit 2) and the child command line.
 */
class LaunchCommandTest {

  static int run(StringWriter err, String... args) {
    CommandLine cli = RecTokCli.commandLine();
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void outOfRangeOptionsAreUsageErrorsNamingTheOption() {
    StringWriter err = new StringWriter();
    assertThat(run(err, "launch", "--nproc-per-node", "0", "--", "doctor")).isEqualTo(2);
    assertThat(err.toString()).contains("--nproc-per-node must be in 1..1024", "got 0");
    err = new StringWriter();
    assertThat(
            run(
                err,
                "launch",
                "--nproc-per-node",
                "2",
                "--nnodes",
                "2",
                "--node-rank",
                "2",
                "--",
                "doctor"))
        .isEqualTo(2);
    assertThat(err.toString()).contains("--node-rank must be in 0..1, got 2");
    err = new StringWriter();
    assertThat(
            run(err, "launch", "--nproc-per-node", "2", "--master-port", "70000", "--", "doctor"))
        .isEqualTo(2);
    assertThat(err.toString()).contains("--master-port must be in 1..65535");
    err = new StringWriter();
    assertThat(run(err, "launch", "--nproc-per-node", "2", "--", "launch", "--nproc-per-node", "2"))
        .isEqualTo(2);
    assertThat(err.toString()).contains("cannot launch again");
    err = new StringWriter();
    assertThat(run(err, "launch", "--nproc-per-node", "2")).isEqualTo(2);
    assertThat(err.toString()).contains("COMMAND");
  }

  @Test
  void childrenRunThisJvmWithTheirOwnArguments() {
    List<String> cmd = LaunchCommand.childCommand(List.of("train", "generator", "--run", "r"));
    assertThat(cmd.get(0)).endsWith("java");
    int main =
        cmd.indexOf(
            cmd.stream()
                .filter(a -> a.endsWith("dev.rectok.cli.RecTokCli"))
                .findFirst()
                .orElseThrow());
    assertThat(cmd.subList(main + 1, cmd.size()))
        .containsExactly("train", "generator", "--run", "r");
  }
}
