package dev.rectok.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --precision} (issue 13): the presets from the CLI, the refusal as a usage error, doctor's
 * report.
 */
class PrecisionCliTest {
  private static final Path GOLDEN =
      Path.of(System.getProperty("rectok.golden.dir", "../golden/public"));
  private static final String BF16_CPU = "avx512f avx512bw avx512vl avx512dq avx512_bf16";

  @AfterEach
  void clearSimulatedCpu() {
    System.clearProperty("rectok.cpuFlags");
  }

  @Test
  void doctorReportsBf16SupportAndTheCpuKnobs() {
    System.setProperty("rectok.cpuFlags", BF16_CPU);
    CliTest.Run r = CliTest.run("doctor");
    assertThat(r.code()).isZero();
    assertThat(r.out())
        .contains(
            "bf16 on this CPU",
            "AVX-512 BF16 (native)",
            "--precision auto = bfloat16",
            "ATEN_CPU_CAPABILITY");
    System.setProperty("rectok.cpuFlags", "avx2");
    assertThat(CliTest.run("doctor").out())
        .contains("none (bf16 would be emulated", "--precision auto = float32");
  }

  @Test
  void generateAndReconstructInEveryPrecisionAndTheRefusal(@TempDir Path tmp) throws IOException {
    Path case1 = GOLDEN.resolve("case1_tokenizer_inference");
    Path case3b = GOLDEN.resolve("case3b_dit_sampling");
    Path stats = tmp.resolve("stats.json");
    try (var g = dev.rectok.models.golden.GoldenCase.open(case1);
        var mean = g.tensor("input.latent_mean");
        var std = g.tensor("input.latent_std")) {
      new dev.rectok.models.stats.LatentStatistics(mean.toFloatArray(), std.toFloatArray(), 1, 1)
          .write(stats);
    }
    String tok = tmp.resolve("tok.safetensors").toString();
    String gen = tmp.resolve("gen.safetensors").toString();
    assertThat(
            CliTest.run(
                    "convert",
                    case1.resolve("weights.pth").toString(),
                    tok,
                    "--kind",
                    "tokenizer",
                    "--config",
                    case1.resolve("config.json").toString(),
                    "--stats",
                    stats.toString())
                .code())
        .isZero();
    assertThat(
            CliTest.run(
                    "convert",
                    case3b.resolve("weights.pth").toString(),
                    gen,
                    "--kind",
                    "generator",
                    "--config",
                    case3b.resolve("config.json").toString())
                .code())
        .isZero();

    System.setProperty("rectok.cpuFlags", BF16_CPU);
    long n0 = dev.rectok.torch.nn.InferencePrecision.lowPrecisionGemms();
    for (String p : new String[] {"fp32", "bf16", "auto"}) {
      CliTest.Run g =
          CliTest.run(
              "generate",
              "--generator",
              gen,
              "--tokenizer",
              tok,
              "--labels",
              "1,2",
              "--steps",
              "4",
              "--precision",
              p,
              "--out",
              tmp.resolve("out-" + p).toString());
      assertThat(g.code()).as(g.err()).isZero();
      assertThat(tmp.resolve("out-" + p + "/sample_0001.png")).exists();
      if (p.equals("fp32")) {
        assertThat(dev.rectok.torch.nn.InferencePrecision.lowPrecisionGemms())
            .as("fp32 runs no bf16 GEMM")
            .isEqualTo(n0);
      }
    }
    assertThat(dev.rectok.torch.nn.InferencePrecision.lowPrecisionGemms())
        .as("bf16 and auto did")
        .isGreaterThan(n0);
    CliTest.Run rec =
        CliTest.run(
            "reconstruct",
            "--tokenizer",
            tok,
            "--precision",
            "bf16",
            "--out",
            tmp.resolve("rec").toString(),
            GOLDEN.resolve("case5_preprocess/img1_701x299.png").toString());
    assertThat(rec.code()).as(rec.err()).isZero();

    // a CPU without bf16: a usage error naming the option and the alternatives, before any work
    System.setProperty("rectok.cpuFlags", "avx2 fma");
    CliTest.Run refused =
        CliTest.run(
            "generate",
            "--generator",
            gen,
            "--tokenizer",
            tok,
            "--labels",
            "1",
            "--precision",
            "bf16",
            "--out",
            tmp.resolve("never").toString());
    assertThat(refused.code()).isEqualTo(2);
    assertThat(refused.err()).contains("--precision", "avx512_bf16", "fp32 or auto");
    assertThat(tmp.resolve("never")).doesNotExist();
    CliTest.Run refusedTok =
        CliTest.run(
            "reconstruct",
            "--tokenizer",
            tok,
            "--precision",
            "bf16",
            "--out",
            tmp.resolve("never2").toString(),
            GOLDEN.resolve("case5_preprocess/img1_701x299.png").toString());
    assertThat(refusedTok.code()).isEqualTo(2);
    assertThat(
            CliTest.run(
                    "generate",
                    "--generator",
                    gen,
                    "--tokenizer",
                    tok,
                    "--labels",
                    "1",
                    "--steps",
                    "3",
                    "--precision",
                    "auto",
                    "--out",
                    tmp.resolve("auto-fp32").toString())
                .code())
        .as("auto falls back")
        .isZero();
    CliTest.Run bad =
        CliTest.run(
            "generate",
            "--generator",
            gen,
            "--tokenizer",
            tok,
            "--labels",
            "1",
            "--precision",
            "fp16",
            "--out",
            tmp.resolve("never3").toString());
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("--precision must be fp32, bf16 or auto, got 'fp16'");
  }

  @Test
  void cudaGraphsFlagIsAUsageErrorOnTheCpuBeforeAnyModelIsBuilt() {
    CliTest.Run r =
        CliTest.run(
            "bench", "sample", "--preset", "DiTDDT_s", "--guide-preset", "none", "--cuda-graphs");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err())
        .contains("--cuda-graphs", "CUDA graphs need a CUDA device, not cpu", "--device cuda:N");
    assertThat(r.out()).doesNotContain("forward ms");
  }
}
