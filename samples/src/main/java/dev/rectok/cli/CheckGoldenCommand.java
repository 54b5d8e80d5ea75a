package dev.rectok.cli;

import dev.rectok.generate.golden.GoldenReplay;
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
@Command(name = "check-golden", description = "Replay golden-format folders and compare every tensor the SDK can produce.")
final class CheckGoldenCommand implements Callable<Integer> {
  @Parameters(paramLabel = "DIR", arity = "1..*", description = "case folders (each with a config.json)")
  List<Path> dirs;

  // Replayers contributed by the modules above rectok-generate, by case kind.
  private static java.util.Map<String, GoldenReplay.Replayer> replayers() {
    java.util.Map<String, GoldenReplay.Replayer> all = new java.util.LinkedHashMap<>(Case2Replay.REPLAYERS);
    // --- issue 11: case7 (Inception, FID/IS/PRC, npz, legacy torch.save) ---
    all.putAll(dev.rectok.generate.golden.Case7Replay.REPLAYERS);
    return all;
  }

  @Override
  public Integer call() throws Exception {
    int failed = 0;
    for (Path dir : dirs) {
      if (!Files.isDirectory(dir)) {
        System.err.println("rectok: " + dir + ": not a directory");
        failed++;
        continue;
      }
      GoldenReplay.Result r = GoldenReplay.run(dir, replayers());
      System.out.println("== " + dir + " (" + r.kind() + ")");
      r.checks().forEach(c -> System.out.println("  " + c));
      r.unsupported().forEach(u -> System.out.println("  SKIP " + u + " (not replayed by this build)"));
      long bad = r.checks().stream().filter(c -> !c.passed()).count();
      System.out.printf("  %s: %d checks, %d failed, %d not replayed%n", r.passed() ? "PASS" : "FAIL", r.checks().size(),
          bad, r.unsupported().size());
      if (!r.passed()) {
        failed++;
      }
    }
    System.out.printf("%d of %d folders passed%n", dirs.size() - failed, dirs.size());
    return failed == 0 ? 0 : 1;
  }
}
