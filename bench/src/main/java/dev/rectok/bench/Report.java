package dev.rectok.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Joins JMH's JSON result and bench_direct's output into the one table bench/run prints.
 *
 * <p>Both sides are reported the same way: the median of the measured rounds (JMH iterations of 1
 * s; bench_direct rounds of 1 s), each round being a mean time per operation.
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.rectok.bench.Report direct.txt jmh.json...}
 */
public final class Report {
  private Report() {}

  /** A timing in seconds per operation: median, min and max over the rounds. */
  record Timing(double median, double min, double max) {}

  /** One row: label, JMH benchmark method, bench_direct name, display unit. */
  record Row(String label, String jmh, String direct, String unit, boolean gflops) {}

  static final double MATMUL_FLOP = 2.0 * 1024 * 1024 * 1024;

  static final List<Row> ROWS =
      List.of(
          new Row(
              "downcall rt_noop (trivial, critical)", "DowncallBench.noop", "noop", "ns", false),
          new Row(
              "downcall rt_abi_version", "DowncallBench.abiVersion", "abi_version", "ns", false),
          new Row(
              "add of two 4-elem f32 + close (Tensor API)",
              "SmallOpBench.addClose",
              "add4",
              "ns",
              false),
          new Row(
              "add of two 4-elem f32 inside a Scope",
              "SmallOpBench.addInScope",
              "add4",
              "ns",
              false),
          new Row("matmul 1024^2 fp32", "MatmulBench.matmul", "matmul1024", "ms", true),
          new Row(
              "MLP 784-256-10 GELU b128 train step",
              "MlpStepBench.trainStep",
              "mlp_step",
              "ms",
              false));

  public static void main(String[] args) throws IOException {
    if (args.length < 2) {
      System.err.println("usage: Report DIRECT_TXT JMH_JSON...");
      System.exit(2);
    }
    Map<String, Timing> direct = readDirect(Path.of(args[0]));
    Map<String, Timing> sdk = new HashMap<>();
    for (int i = 1; i < args.length; i++) {
      sdk.putAll(readJmh(Path.of(args[i])));
    }
    System.out.print(render(sdk, direct));
  }

  static double unitSeconds(String unit) {
    return switch (unit) {
      case "s", "s/op" -> 1;
      case "ms", "ms/op" -> 1e-3;
      case "us", "us/op" -> 1e-6;
      case "ns", "ns/op" -> 1e-9;
      default -> throw new IllegalArgumentException("unknown unit " + unit);
    };
  }

  static Map<String, Timing> readJmh(Path json) throws IOException {
    Map<String, Timing> out = new HashMap<>();
    if (!Files.isRegularFile(json)) {
      return out;
    }
    JsonNode root = new ObjectMapper().readTree(json.toFile());
    for (JsonNode b : root) {
      String name = b.path("benchmark").asText();
      String shortName = name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1);
      JsonNode pm = b.path("primaryMetric");
      double scale = unitSeconds(pm.path("scoreUnit").asText());
      List<Double> rounds = new ArrayList<>();
      for (JsonNode fork : pm.path("rawData")) {
        for (JsonNode v : fork) {
          rounds.add(v.asDouble() * scale);
        }
      }
      if (!rounds.isEmpty()) {
        out.put(shortName, summarize(rounds));
      }
    }
    return out;
  }

  static Map<String, Timing> readDirect(Path txt) throws IOException {
    Map<String, Timing> out = new HashMap<>();
    if (!Files.isRegularFile(txt)) {
      return out;
    }
    for (String line : Files.readAllLines(txt)) {
      String[] f = line.trim().split("\\s+");
      if (line.startsWith("#") || f.length != 5) {
        continue;
      }
      double s = unitSeconds(f[4]);
      out.put(
          f[0],
          new Timing(
              Double.parseDouble(f[1]) * s,
              Double.parseDouble(f[2]) * s,
              Double.parseDouble(f[3]) * s));
    }
    return out;
  }

  static Timing summarize(List<Double> rounds) {
    double[] v = rounds.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int n = v.length;
    double median = n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    return new Timing(median, v[0], v[n - 1]);
  }

  static String cell(Timing t, Row r) {
    if (t == null) {
      return "n/a";
    }
    double value = t.median() / unitSeconds(r.unit());
    String s =
        String.format(Locale.ROOT, r.unit().equals("ns") ? "%.1f %s" : "%.2f %s", value, r.unit());
    if (r.gflops()) {
      s += String.format(Locale.ROOT, " (%.0f GFLOP/s)", MATMUL_FLOP / t.median() / 1e9);
    }
    return s;
  }

  static String spread(Timing t, Row r) {
    if (t == null) {
      return "n/a";
    }
    double u = unitSeconds(r.unit());
    return String.format(
        Locale.ROOT,
        r.unit().equals("ns") ? "%.1f-%.1f %s" : "%.2f-%.2f %s",
        t.min() / u,
        t.max() / u,
        r.unit());
  }

  static String render(Map<String, Timing> sdk, Map<String, Timing> direct) {
    String[] head = {"measurement", "SDK (Java via shim)", "LibTorch C++ direct", "ratio"};
    List<String[]> rows = new ArrayList<>();
    List<String[]> spreads = new ArrayList<>();
    for (Row r : ROWS) {
      Timing s = sdk.get(r.jmh());
      Timing d = direct.get(r.direct());
      String ratio =
          s != null && d != null
              ? String.format(Locale.ROOT, "%.2f", s.median() / d.median())
              : "n/a";
      rows.add(new String[] {r.label(), cell(s, r), cell(d, r), ratio});
      spreads.add(new String[] {r.label(), spread(s, r), spread(d, r)});
    }
    StringBuilder sb = new StringBuilder();
    table(sb, head, rows);
    sb.append(
            "ratio = SDK time / C++ time (1.00 = same speed; higher = SDK slower). Each cell: median of the\n")
        .append(
            "measured rounds (JMH iterations / bench_direct rounds), a round being a mean time per op.\n\n")
        .append("spread (min-max over the rounds):\n");
    table(sb, new String[] {"measurement", "SDK", "C++ direct"}, spreads);
    return sb.toString();
  }

  static void table(StringBuilder sb, String[] head, List<String[]> rows) {
    int[] w = new int[head.length];
    for (int i = 0; i < head.length; i++) {
      w[i] = head[i].length();
      for (String[] r : rows) {
        w[i] = Math.max(w[i], r[i].length());
      }
    }
    line(sb, head, w);
    String[] rule = new String[head.length];
    for (int i = 0; i < head.length; i++) {
      rule[i] = "-".repeat(w[i]);
    }
    line(sb, rule, w);
    for (String[] r : rows) {
      line(sb, r, w);
    }
  }

  static void line(StringBuilder sb, String[] cells, int[] w) {
    sb.append('|');
    for (int i = 0; i < cells.length; i++) {
      String c = cells[i];
      boolean right = i > 0;
      String pad = " ".repeat(w[i] - c.length());
      sb.append(' ').append(right ? pad + c : c + pad).append(" |");
    }
    sb.append('\n');
  }
}
