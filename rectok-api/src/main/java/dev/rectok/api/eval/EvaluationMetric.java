package dev.rectok.api.eval;

/** The metric families an evaluation can compute. Immutable; thread-safe. */
public enum EvaluationMetric {
  /** Fréchet Inception Distance ({@code frechet_inception_distance}). */
  FID,
  /**
   * Inception Score ({@code inception_score_mean}/{@code _std} under torch-fidelity, {@code
   * inception_score} under ADM).
   */
  ISC,
  /** Precision, recall and F-score, k = 3 ({@code precision}, {@code recall}, {@code f_score}). */
  PRC,
  /** Kernel Inception Distance ({@code kernel_inception_distance_mean}/{@code _std}). */
  KID,
  /** The ADM evaluator's spatial FID ({@code sfid}). */
  SFID
}
