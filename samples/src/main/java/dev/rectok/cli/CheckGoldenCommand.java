package dev.rectok.cli;

import dev.rectok.generate.golden.GoldenReplay;
import dev.rectok.torch.io.SafeText;
import dev.rectok.train.tokenizer.Case2Replay;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code rectok check-golden DIR...}: replays golden folders (the reference's recorded inputs and
 * outputs) with the SDK and prints one line per compared tensor; exits 1 on any failure.
 */
@Command(
    name = "check-golden",
    description = "Replay golden-format folders and compare every tensor the SDK can produce.")
final class CheckGoldenCommand implements Callable<Integer> {
  @Parameters(
      paramLabel = "DIR",
      arity = "1..*",
      description = "case folders (each with a config.json)")
  List<Path> dirs;

  // Replayers contributed by the modules above rectok-generate, by case kind.
  private static java.util.Map<String, GoldenReplay.Replayer> replayers() {
    java.util.Map<String, GoldenReplay.Replayer> all =
        new java.util.LinkedHashMap<>(Case2Replay.REPLAYERS);
    // --- issue 11: case7 (Inception, FID/IS/PRC, npz, legacy torch.save) ---
    all.putAll(dev.rectok.generate.golden.Case7Replay.REPLAYERS);
    return all;
  }

  @Override
  public Integer call() {
    // --- issue 10: every folder is checked, whatever the others do, then a summary ---
    int failed = 0;
    int unreadable = 0;
    for (Path dir : dirs) {
      if (!Files.isDirectory(dir)) {
        System.out.println("== " + SafeText.of(dir.toString()) + ": ERROR not a directory");
        unreadable++;
        continue;
      }
      GoldenReplay.Result r;
      try {
        r = GoldenReplay.run(dir, replayers());
      } catch (java.io.IOException | RuntimeException e) {
        System.out.println("== " + SafeText.of(dir.toString()) + ": ERROR " + ExitCodes.message(e));
        unreadable++;
        continue;
      }
      System.out.println("== " + SafeText.of(dir.toString()) + " (" + SafeText.of(r.kind()) + ")");
      r.checks().forEach(c -> System.out.println("  " + SafeText.of(c.toString())));
      r.unsupported()
          .forEach(
              u ->
                  System.out.println("  SKIP " + SafeText.of(u) + " (not replayed by this build)"));
      long bad = r.checks().stream().filter(c -> !c.passed()).count();
      System.out.printf(
          "  %s: %d checks, %d failed, %d not replayed%n",
          r.passed() ? "PASS" : "FAIL", r.checks().size(), bad, r.unsupported().size());
      if (!r.passed()) {
        failed++;
      }
    }
    System.out.printf(
        "%d of %d folders passed, %d failed, %d could not be read%n",
        dirs.size() - failed - unreadable, dirs.size(), failed, unreadable);
    // a failed comparison is the SDK's fault (1); an unreadable folder is bad input (3)
    return failed > 0 ? ExitCodes.INTERNAL : unreadable > 0 ? ExitCodes.BAD_INPUT : ExitCodes.OK;
  }
}
