package dev.rectok.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Issue 10: every numeric option of every command has a range, and a random value is accepted
 * exactly when it is inside it; outside, the command fails with exit code 2 naming the option and
 * the range, before creating anything.
 */
class OptionBoundsPropertiesTest {
  record NumericOption(String command, String option) {}

  static List<NumericOption> numericOptions() {
    List<NumericOption> out = new ArrayList<>();
    collect(RecTokCli.commandLine(), out);
    return out;
  }

  private static void collect(CommandLine cmd, List<NumericOption> out) {
    CommandSpec spec = cmd.getCommandSpec();
    for (OptionSpec o : spec.options()) {
      Class<?> t =
          o.type().isArray()
              ? o.type().getComponentType()
              : List.class.isAssignableFrom(o.type()) && o.auxiliaryTypes().length > 0
                  ? o.auxiliaryTypes()[0]
                  : o.type();
      if (t.isPrimitive() && t != boolean.class || Number.class.isAssignableFrom(t)) {
        out.add(
            new NumericOption(
                spec.qualifiedName(" ").replaceFirst("^rectok ?", ""), o.longestName()));
      }
    }
    cmd.getSubcommands().values().forEach(c -> collect(c, out));
  }

  // Dummy values for the command's other required options and positional parameters, so that
  // parsing reaches the range check.
  private static List<String> requiredArguments(CommandLine cli, NumericOption o) {
    CommandLine c = cli;
    for (String part : o.command().split(" ")) {
      c = c.getSubcommands().get(part);
    }
    List<String> out = new ArrayList<>();
    for (OptionSpec opt : c.getCommandSpec().options()) {
      if (opt.required() && !opt.longestName().equals(o.option())) {
        out.add(opt.longestName());
        out.add(opt.type().isArray() || Number.class.isAssignableFrom(opt.type()) ? "1" : "x");
      }
    }
    c.getCommandSpec()
        .positionalParameters()
        .forEach(
            p -> {
              for (int i = 0; i < Math.max(1, p.arity().min()); i++) {
                out.add("x");
              }
            });
    return out;
  }

  @Example
  void everyNumericOptionHasARange() {
    List<NumericOption> all = numericOptions();
    assertThat(all).hasSizeGreaterThan(20);
    assertThat(all)
        .allSatisfy(o -> assertThat(OptionChecks.BOUNDS).as(o.toString()).containsKey(o.option()));
  }

  @Provide
  Arbitrary<NumericOption> options() {
    return Arbitraries.of(numericOptions());
  }

  @Provide
  Arbitrary<String> values() {
    return Arbitraries.oneOf(
        Arbitraries.longs().map(String::valueOf),
        Arbitraries.longs().between(-5, 20_000).map(String::valueOf),
        Arbitraries.of(
            "2147483647",
            "9223372036854775807",
            "-1",
            "0",
            "1",
            "4097",
            "10001",
            "1e308",
            "NaN",
            "Infinity",
            "-Infinity",
            "0.5"));
  }

  @Property(tries = 300)
  void aValueIsAcceptedExactlyWhenItIsInTheRange(
      @ForAll("options") NumericOption o, @ForAll("values") String value) {
    CommandLine cli = RecTokCli.commandLine();
    List<String> args = new ArrayList<>(List.of(o.command().split(" ")));
    args.addAll(List.of(o.option(), value));
    args.addAll(requiredArguments(cli, o));
    CommandLine.ParseResult parsed;
    try {
      parsed = cli.parseArgs(args.toArray(String[]::new));
    } catch (CommandLine.ParameterException e) {
      // not a number of the option's type (picocli's own check)
      Statistics.label("outcome").collect("not parsed");
      return;
    }
    CommandLine.ParseResult leaf = parsed;
    while (leaf.hasSubcommand()) {
      leaf = leaf.subcommand();
    }
    OptionChecks.Range r = OptionChecks.BOUNDS.get(o.option());
    double v = Double.parseDouble(value);
    boolean inRange = Double.isFinite(v) && r.contains(v);
    try {
      OptionChecks.check(leaf);
      Statistics.label("outcome").collect("accepted");
      assertThat(inRange).as("accepted %s %s outside %s", o.option(), value, r.text()).isTrue();
    } catch (CommandLine.ParameterException e) {
      assertThat(inRange)
          .as("refused %s %s inside %s: %s", o.option(), value, r.text(), e.getMessage())
          .isFalse();
      assertThat(e.getMessage()).contains(o.option() + " must be in " + r.text());
      Statistics.label("outcome").collect("refused");
    }
    // both branches must really be exercised, not skipped by parse failures
    Statistics.label("outcome")
        .coverage(
            c -> {
              c.check("accepted").percentage(p -> p > 5);
              c.check("refused").percentage(p -> p > 20);
            });
  }
}
