package dev.rectok.api.eval;

import java.util.Map;
import java.util.Objects;

/**
 * The outcome of an evaluation, with what is needed to reproduce or audit it. Immutable (the map is
 * copied); thread-safe.
 *
 * @param protocol the protocol followed
 * @param metrics metric name → value, in torch-fidelity's and ADM's names ({@link #FID}, …)
 * @param samples sample images evaluated
 * @param skipped sample images skipped (only with {@code skipBad})
 * @param referenceImages reference images run through the network (0 when stored statistics were
 *     used)
 * @param referenceStoredStatistics whether the reference's stored statistics were used
 * @param referenceSha256 SHA-256 of the reference file (or of a folder's files in name order), hex;
 *     null without a reference
 * @param inceptionSha256 SHA-256 of the Inception weights file, hex
 */
public record EvaluationReport(
    EvaluationProtocol protocol,
    Map<String, Double> metrics,
    int samples,
    long skipped,
    int referenceImages,
    boolean referenceStoredStatistics,
    String referenceSha256,
    String inceptionSha256) {

  /** {@code frechet_inception_distance}. */
  public static final String FID = "frechet_inception_distance";

  /** {@code kernel_inception_distance_mean}. */
  public static final String KID_MEAN = "kernel_inception_distance_mean";

  /** {@code sfid}. */
  public static final String SFID = "sfid";

  /** Copies the metric map. */
  public EvaluationReport {
    Objects.requireNonNull(protocol, "protocol");
    metrics = Map.copyOf(metrics);
  }

  /**
   * One metric's value.
   *
   * @param name the metric's name, e.g. {@link #FID}
   * @return its value
   * @throws IllegalArgumentException listing the computed names when it was not computed
   */
  public double metric(String name) {
    Double v = metrics.get(name);
    if (v == null) {
      throw new IllegalArgumentException(
          "'" + name + "' was not computed; this report holds " + metrics.keySet());
    }
    return v;
  }
}
