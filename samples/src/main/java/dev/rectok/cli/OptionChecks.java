package dev.rectok.cli;

import dev.rectok.api.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * Checks applied to every command's options after parsing and before the command runs, so that a
 * value that would allocate or loop without bound, or an unavailable device, is a usage error (exit
 * 2) naming the option and its allowed values before any model is loaded:
 *
 * <ul>
 *   <li>every numeric option has a range in {@link #BOUNDS} (a test enforces that), derived from
 *       what fits in memory or makes sense; doubles must also be finite;
 *   <li>{@code --guidance} and {@code --method} take one of their listed values;
 *   <li>{@code --device} must parse and name a device this build of LibTorch has.
 * </ul>
 *
 * <p>Stateless and thread-safe.
 */
final class OptionChecks {
  /** An inclusive range of an option's values (per element for lists). */
  record Range(double min, double max, String why) {
    boolean contains(double v) {
      return v >= min && v <= max;
    }

    String text() {
      return fmt(min) + ".." + fmt(max);
    }

    private static String fmt(double v) {
      if (v == Long.MAX_VALUE) {
        return String.valueOf(Long.MAX_VALUE);
      }
      if (v == Long.MIN_VALUE) {
        return String.valueOf(Long.MIN_VALUE);
      }
      return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.valueOf((long) v) : String.valueOf(v);
    }
  }

  private static final double LONG_MAX = Long.MAX_VALUE;

  /** The range of every numeric option, by its name; the same name means the same kind of value. */
  static final Map<String, Range> BOUNDS =
      Map.ofEntries(
          Map.entry("--seed", new Range(Long.MIN_VALUE, LONG_MAX, "any 64-bit seed")),
          Map.entry("--steps", new Range(2, 10_000, "time-grid points")),
          Map.entry("--scale", new Range(0, 100, "guidance weight")),
          Map.entry("--labels", new Range(0, 1_000_000, "class labels")),
          Map.entry(
              "--batch",
              new Range(1, 1024, "images per batch; 1024 of 256x256 RGB are 0.75 GiB of floats")),
          Map.entry("--max-images", new Range(1, 1e12, "images")),
          Map.entry("--readers", new Range(1, 256, "decoding threads")),
          Map.entry("--iters", new Range(1, 1_000_000, "iterations")),
          Map.entry("--warmup", new Range(0, 1_000_000, "iterations")),
          Map.entry("--threads", new Range(1, 1024, "threads")),
          Map.entry("--max-steps", new Range(1, LONG_MAX, "optimizer steps")),
          Map.entry("--max-steps-per-stage", new Range(1, LONG_MAX, "optimizer steps")),
          Map.entry("--max-minutes", new Range(1e-3, 1e7, "minutes")),
          Map.entry("--stage", new Range(1, 2, "tokenizer training stage")),
          Map.entry("--stats-images", new Range(1, 100_000_000, "images")),
          Map.entry("--train-images", new Range(1, 100_000_000, "images")),
          Map.entry("--widths", new Range(1, 4096, "latent channels")),
          Map.entry("--tokenizer-epochs", new Range(1, 100_000, "epochs")),
          Map.entry("--generator-epochs", new Range(1, 100_000, "epochs")),
          // options of the evaluation, teacher, precision and launch commands
          Map.entry("--epochs", new Range(1, 100_000, "epochs")),
          Map.entry("--num", new Range(1, 1e9, "images")),
          Map.entry("--limit", new Range(1, 1e10, "images")),
          Map.entry("--test-images", new Range(1, 100_000_000, "images")),
          Map.entry("--per-class", new Range(1, 100_000, "images per class")),
          Map.entry("--chunk", new Range(1, 1_000_000, "images per shard file")),
          Map.entry("--crop", new Range(8, 8192, "pixels")),
          Map.entry("--size", new Range(8, 8192, "pixels")),
          Map.entry("--image-size", new Range(8, 8192, "pixels")),
          Map.entry("--grid", new Range(1, 1024, "tokens per side")),
          Map.entry("--repeats", new Range(1, 100_000, "repetitions")),
          Map.entry("--rounds", new Range(1, 100_000, "rounds")),
          Map.entry("--nproc-per-node", new Range(1, 1024, "processes per machine")),
          Map.entry("--nnodes", new Range(1, 65_536, "machines")),
          Map.entry("--node-rank", new Range(0, 65_535, "this machine's rank")),
          Map.entry("--master-port", new Range(1, 65_535, "TCP port")),
          // --- issue 11: KID ---
          Map.entry("--kid-subsets", new Range(1, 100_000, "KID subsets")),
          Map.entry("--kid-subset-size", new Range(2, 1_000_000, "images per KID subset")),
          Map.entry("--shard-images", new Range(1, 10_000_000, "images per probe cache shard")));

  /** At most this many values in a list option (each --labels value is one image in memory). */
  static final int MAX_LIST = 4096;

  /** The allowed values of string options that name a choice. */
  static final Map<String, List<String>> CHOICES =
      Map.of(
          "--guidance", List.of("none", "cfg", "autoguidance"),
          "--method", List.of("euler", "heun"));

  private OptionChecks() {}

  /** Runs the checks on the innermost parsed subcommand, then the command. */
  static int executeChecked(ParseResult parsed) {
    ParseResult leaf = parsed;
    while (leaf.hasSubcommand()) {
      leaf = leaf.subcommand();
    }
    check(leaf);
    return new CommandLine.RunLast().execute(parsed);
  }

  static void check(ParseResult leaf) {
    CommandLine cmd = leaf.commandSpec().commandLine();
    for (OptionSpec o : leaf.matchedOptions()) {
      String name = o.longestName();
      Object v = o.getValue();
      Range r = BOUNDS.get(name);
      if (r != null) {
        for (Object x : values(v)) {
          if (x instanceof Number n) {
            double d = n.doubleValue();
            if ((n instanceof Double || n instanceof Float) && !Double.isFinite(d)
                || !r.contains(d)) {
              throw new CommandLine.ParameterException(
                  cmd,
                  name + " must be in " + r.text() + " (" + r.why() + "), got " + x,
                  o,
                  String.valueOf(x));
            }
          }
        }
        if (values(v).size() > MAX_LIST) {
          throw new CommandLine.ParameterException(
              cmd,
              name + " takes at most " + MAX_LIST + " values, got " + values(v).size(),
              o,
              null);
        }
      }
      List<String> choices = CHOICES.get(name);
      if (choices != null
          && v != null
          && !choices.contains(v.toString().toLowerCase(Locale.ROOT))) {
        throw new CommandLine.ParameterException(
            cmd,
            name
                + " must be one of "
                + String.join(", ", choices)
                + ", got '"
                + dev.rectok.torch.io.SafeText.of(v.toString())
                + "'",
            o,
            v.toString());
      }
      if (name.equals("--device") && v != null) {
        checkDevice(cmd, o, v.toString());
      }
    }
  }

  private static void checkDevice(CommandLine cmd, OptionSpec o, String spec) {
    Device d;
    try {
      d = Device.parse(spec);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(
          cmd,
          "--device must be cpu or cuda:N (PyTorch syntax), got '"
              + dev.rectok.torch.io.SafeText.of(spec)
              + "'",
          o,
          spec);
    }
    try {
      dev.rectok.models.DeviceCheck.requireAvailable(d);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(cmd, "--device: " + e.getMessage(), o, spec);
    }
  }

  private static Collection<?> values(Object v) {
    if (v == null) {
      return List.of();
    }
    if (v instanceof Collection<?> c) {
      return c;
    }
    if (v.getClass().isArray()) {
      List<Object> out = new ArrayList<>();
      for (int i = 0; i < java.lang.reflect.Array.getLength(v); i++) {
        out.add(java.lang.reflect.Array.get(v, i));
      }
      return out;
    }
    return List.of(v);
  }

  /**
   * Refuses to overwrite: fails if any of {@code outputs} exists and {@code force} is false. Called
   * by commands before any work.
   *
   * @throws java.nio.file.FileAlreadyExistsException naming the first existing file
   */
  static void refuseOverwrite(boolean force, Collection<Path> outputs) throws java.io.IOException {
    if (force) {
      return;
    }
    for (Path p : outputs) {
      if (p != null && Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        throw new java.nio.file.FileAlreadyExistsException(
            p.toString(),
            null,
            "already exists; refusing to overwrite it (pass --force to replace it, or choose another output)");
      }
    }
  }
}
