package dev.rectok.samples.server;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The server's command-line options: {@code --name value} pairs, checked by name and range with
 * messages that name the option and the allowed values. Stateless; thread-safe.
 */
final class MainOptions {
  private MainOptions() {}

  static final String USAGE =
      "usage: [--port N] [--concurrency N] [--queue N] [--max-batch N] [--batch-window-ms N]"
          + " [--tokenizer FILE --generator FILE [--guide FILE]]";

  private static final Set<String> NAMES =
      Set.of(
          "port",
          "concurrency",
          "queue",
          "max-batch",
          "batch-window-ms",
          "tokenizer",
          "generator",
          "guide");

  /** The options by name (without the dashes). */
  static Map<String, String> parse(String[] args) {
    Map<String, String> a = new HashMap<>();
    for (int i = 0; i < args.length; i += 2) {
      String name = args[i].startsWith("--") ? args[i].substring(2) : null;
      if (name == null || !NAMES.contains(name)) {
        throw new IllegalArgumentException("unknown option " + args[i] + "; " + USAGE);
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("option " + args[i] + " needs a value; " + USAGE);
      }
      if (a.put(name, args[i + 1]) != null) {
        throw new IllegalArgumentException("option " + args[i] + " is given twice");
      }
    }
    return a;
  }

  static int number(Map<String, String> a, String name, int def, int min, int max) {
    String s = a.get(name);
    if (s == null) {
      return def;
    }
    int v;
    try {
      v = Integer.parseInt(s.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "--" + name + " must be an integer in " + min + ".." + max + ", got '" + s + "'");
    }
    if (v < min || v > max) {
      throw new IllegalArgumentException(
          "--" + name + " must be in " + min + ".." + max + ", got " + v);
    }
    return v;
  }

  /** The configuration the options ask for, on the defaults. */
  static ServerConfig config(Map<String, String> a) {
    return ServerConfig.defaults()
        .withPort(number(a, "port", 8080, 0, 65535))
        .withConcurrency(number(a, "concurrency", 2, 1, 1024), number(a, "queue", 32, 0, 1_000_000))
        .withBatching(
            number(a, "max-batch", 1, 1, ServerConfig.MAX_BATCH_LIMIT),
            Duration.ofMillis(
                number(
                    a,
                    "batch-window-ms",
                    (int) ServerConfig.DEFAULT_BATCH_WINDOW.toMillis(),
                    0,
                    (int) ServerConfig.MAX_BATCH_WINDOW.toMillis())));
  }
}
