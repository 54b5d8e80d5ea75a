package dev.rectok.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CliTest {
  private static final Path GOLDEN = Path.of(System.getProperty("rectok.golden.dir", "../../shared/golden/public"));

  record Run(int code, String out, String err) {}

  private static Run run(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    StringWriter picoErr = new StringWriter();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      CommandLine cli = RecTokCli.commandLine();
      cli.setErr(new PrintWriter(picoErr, true));
      int code = cli.execute(args);
      return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8) + picoErr);
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  @Test
  void doctorReportsTheRuntime() {
    Run r = run("doctor");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("libtorch", "shim", "BLAS", "intra-op threads", "CUDA devices", "native access");
  }

  @Test
  void inspectListsEveryTensorOfAGoldenCheckpoint() {
    Run r = run("inspect", GOLDEN.resolve("case3_dit_forward/weights.pth").toString());
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("top-level keys [model, model_ema, epoch, last_elapsed_time]",
        "model_ema.x_embedder.proj.weight", "F32", "[80, 80, 1, 1]", "epoch");
    Run st = run("inspect", GOLDEN.resolve("case3_dit_forward/weights.safetensors").toString());
    assertThat(st.code()).isZero();
    assertThat(st.out()).contains("safetensors", "x_embedder.proj.weight", "total");
  }

  @Test
  void inspectRefusesBrokenFilesWithAReason(@TempDir Path tmp) throws IOException {
    Path truncated = tmp.resolve("t.pth");
    byte[] all = Files.readAllBytes(GOLDEN.resolve("case3_dit_forward/weights.pth"));
    Files.write(truncated, java.util.Arrays.copyOf(all, all.length / 2));
    Run r = run("inspect", truncated.toString());
    assertThat(r.code()).isEqualTo(3);
    assertThat(r.err()).contains("refusing", "t.pth");

    Path junk = tmp.resolve("j.safetensors");
    Files.writeString(junk, "{\"not\": \"a header\"}");
    Run j = run("inspect", junk.toString());
    assertThat(j.code()).isEqualTo(3);
    assertThat(j.err()).contains("refusing");

    Run missing = run("inspect", tmp.resolve("absent.pth").toString());
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).contains("absent.pth");
  }

  @Test
  void unknownCommandsAndOptionsAreUsageErrors() {
    assertThat(run("frobnicate").code()).isEqualTo(2);
    assertThat(run("demo", "--epochs", "many").code()).isEqualTo(2);
  }

  @Test
  void checkGoldenPassesAReplayableFolderAndFailsOthers(@TempDir Path tmp) {
    Run ok = run("check-golden", GOLDEN.resolve("case5_preprocess").toString(), GOLDEN.resolve("case3_dit_forward").toString());
    assertThat(ok.code()).isZero();
    assertThat(ok.out()).contains("output.velocity", "PASS", "2 of 2 folders passed");
    Run bad = run("check-golden", tmp.toString());
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("not a golden folder");
  }
}
