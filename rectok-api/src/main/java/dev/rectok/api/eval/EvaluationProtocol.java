package dev.rectok.api.eval;

import java.util.Locale;

/**
 * Which reference implementation's formulas and conventions an evaluation follows (see the README's
 * "Evaluate like the paper"). Immutable; thread-safe.
 */
public enum EvaluationProtocol {
  /** torch-fidelity, as RecTok's {@code evaluate_FID} uses it (the paper's numbers). */
  TORCH_FIDELITY("torch-fidelity"),
  /** The ADM evaluator ({@code openai/guided-diffusion evaluations/evaluator.py}). */
  ADM("adm");

  private final String key;

  EvaluationProtocol(String key) {
    this.key = key;
  }

  /**
   * The command-line and {@code metrics.json} name.
   *
   * @return {@code torch-fidelity} or {@code adm}
   */
  public String key() {
    return key;
  }

  /**
   * The protocol named {@code key}.
   *
   * @param key {@code torch-fidelity} or {@code adm} (case-insensitive)
   * @return the protocol
   * @throws IllegalArgumentException naming the allowed values otherwise
   */
  public static EvaluationProtocol of(String key) {
    for (EvaluationProtocol p : values()) {
      if (p.key.equals(key.toLowerCase(Locale.ROOT))) {
        return p;
      }
    }
    throw new IllegalArgumentException(
        "the protocol must be torch-fidelity or adm, got '" + key + "'");
  }
}
