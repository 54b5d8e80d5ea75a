package dev.rectok.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.eval.Evaluation;
import dev.rectok.eval.KernelInceptionDistance;
import java.util.Locale;
import java.util.Set;

/**
 * What {@code metrics.json} records about KID and about metrics {@code eval all} left out because
 * the reference holds only statistics. Stateless; thread-safe.
 */
final class EvalExtras {
  private EvalExtras() {}

  static void record(
      ObjectNode j,
      Set<Evaluation.Metric> requested,
      Set<Evaluation.Metric> computed,
      KernelInceptionDistance.Options kid) {
    if (computed.contains(Evaluation.Metric.KID)) {
      j.put("kid_subsets", kid.subsets());
      j.put("kid_subset_size", kid.subsetSize());
      j.put("kid_seed", kid.seed());
    }
    if (!computed.containsAll(requested)) {
      ArrayNode skipped = j.putArray("not_computed");
      for (Evaluation.Metric m : requested) {
        if (!computed.contains(m)) {
          skipped.add(m.name().toLowerCase(Locale.ROOT));
          System.err.println(
              m.name().toLowerCase(Locale.ROOT)
                  + " not computed: the reference holds statistics, not images");
        }
      }
    }
  }
}
