package dev.rectok.api.spi;

import dev.rectok.api.Progress;
import dev.rectok.api.eval.EvaluationReport;
import dev.rectok.api.eval.EvaluationRequest;
import java.io.IOException;

/**
 * Service interface for evaluating sample sets (module {@code dev.rectok.torch} provides one over
 * its Inception network), found through {@link dev.rectok.api.Backends#evaluators}, so an
 * application that only needs the API computes FID and the other metrics without depending on the
 * implementation (or on training). Implementations are stateless and thread-safe.
 */
public interface EvaluatorProvider {

  /**
   * Runs an evaluation.
   *
   * @param request what to evaluate and how
   * @param progress receives progress of the feature extraction
   * @return the report
   * @throws IOException for missing, unreadable or malformed files (the message names the file)
   * @throws IllegalArgumentException for inconsistent inputs (too few images, dimension mismatches,
   *     a metric the reference cannot give)
   */
  EvaluationReport evaluate(EvaluationRequest request, Progress progress) throws IOException;

  /**
   * Higher wins when several providers are installed (the same rule as {@link Backend#priority()}).
   *
   * @return the priority; 0 unless overridden
   */
  default int priority() {
    return 0;
  }
}
