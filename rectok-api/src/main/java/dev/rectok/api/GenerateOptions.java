package dev.rectok.api;

import java.util.function.BooleanSupplier;

/**
 * How to sample: integrator, grid, guidance. Defaults are the reference's evaluation settings
 * (Euler, 150 grid points = 149 steps, shifted grid; no guidance). Immutable; thread-safe (the
 * cancellation callback is polled from the sampling thread).
 *
 * @param gridPoints time-grid points (steps + 1), 2 to {@link #MAX_GRID_POINTS}
 * @param method the ODE integrator
 * @param guidance the guidance strategy
 * @param guidanceScale w: CFG's and AutoGuidance's weight (1.29 is the reference's AutoGuidance)
 * @param intervalMin guidance applies for t in [intervalMin, intervalMax]
 * @param intervalMax see intervalMin
 * @param cancelled polled once per step; true stops sampling with an exception
 * @param firstSampleIndex −1: one noise draw for the whole call from the seed (the default);
 *     otherwise sample {@code i} of the call is global sample {@code firstSampleIndex + i} and its
 *     noise comes from {@code (seed, global index)} alone, so results do not depend on batch size,
 *     threads or how many processes share the work (what {@code rectok sample} uses)
 * @param precision the networks' arithmetic ({@link Precision}), FP32 by default
 */
public record GenerateOptions(
    int gridPoints,
    Method method,
    GuidanceKind guidance,
    double guidanceScale,
    double intervalMin,
    double intervalMax,
    BooleanSupplier cancelled,
    long firstSampleIndex,
    // --- issue 13: precision ---
    Precision precision) {

  /** ODE integrators. */
  public enum Method {
    /** First-order Euler steps. */
    EULER,
    /** Second-order Heun steps (two evaluations per step). */
    HEUN
  }

  /** Guidance strategies. */
  public enum GuidanceKind {
    /** The conditional model alone. */
    NONE,
    /** Classifier-free guidance: batch doubled with the null class. */
    CFG,
    /** A second, weaker generator with the same labels (DiT^DH-S for DiT^DH-XL). */
    AUTOGUIDANCE
  }

  /** The most time-grid points accepted (the reference evaluates with 150). */
  public static final int MAX_GRID_POINTS = 1_000_000;

  /** Validates the options. */
  public GenerateOptions {
    if (gridPoints < 2) {
      throw new IllegalArgumentException("need at least 2 grid points, got " + gridPoints);
    }
    if (gridPoints > MAX_GRID_POINTS) {
      throw new IllegalArgumentException(
          "need at most " + MAX_GRID_POINTS + " grid points, got " + gridPoints);
    }
    if (method == null || guidance == null || cancelled == null || precision == null) {
      throw new NullPointerException("method, guidance, cancelled and precision are required");
    }
    if (!(guidanceScale >= 0)
        || Double.isInfinite(guidanceScale)
        || !(intervalMin <= intervalMax)) {
      throw new IllegalArgumentException(
          "invalid guidance: scale "
              + guidanceScale
              + ", interval ["
              + intervalMin
              + ", "
              + intervalMax
              + "]");
    }
    if (firstSampleIndex < -1) {
      throw new IllegalArgumentException(
          "firstSampleIndex must be -1 (off) or a global index >= 0, got " + firstSampleIndex);
    }
  }

  /**
   * The reference's defaults.
   *
   * @return the defaults
   */
  public static GenerateOptions defaults() {
    return builder().build();
  }

  /**
   * A builder starting from the defaults.
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** Builder; every setter returns this. Not thread-safe. */
  public static final class Builder {
    private int gridPoints = 150;
    private Method method = Method.EULER;
    private GuidanceKind guidance = GuidanceKind.NONE;
    private double guidanceScale = 1.0;
    private double intervalMin = 0;
    private double intervalMax = 1;
    private BooleanSupplier cancelled = () -> false;
    private long firstSampleIndex = -1;
    // --- issue 13: precision ---
    private Precision precision = Precision.FP32;

    /** A builder holding the defaults; {@link GenerateOptions#builder()} is the same. */
    public Builder() {}

    /**
     * Sets the time-grid points (steps + 1).
     *
     * @param v at least 2
     * @return this
     */
    public Builder gridPoints(int v) {
      gridPoints = v;
      return this;
    }

    /**
     * Sets the integrator.
     *
     * @param v the integrator
     * @return this
     */
    public Builder method(Method v) {
      method = v;
      return this;
    }

    /**
     * Guidance with its weight.
     *
     * @param kind the strategy
     * @param scale its weight w
     * @return this
     */
    public Builder guidance(GuidanceKind kind, double scale) {
      guidance = kind;
      guidanceScale = scale;
      return this;
    }

    /**
     * AutoGuidance at the reference's weight 1.29.
     *
     * @return this
     */
    public Builder autoGuidance() {
      return guidance(GuidanceKind.AUTOGUIDANCE, 1.29);
    }

    /**
     * Sets the time interval where guidance applies.
     *
     * @param min lower end
     * @param max upper end
     * @return this
     */
    public Builder interval(double min, double max) {
      intervalMin = min;
      intervalMax = max;
      return this;
    }

    /**
     * Sets the cancellation check, polled once per step.
     *
     * @param v true stops sampling
     * @return this
     */
    public Builder cancelled(BooleanSupplier v) {
      cancelled = v;
      return this;
    }

    /**
     * Per-sample noise: sample {@code i} of a call is global sample {@code index + i}, its noise
     * drawn from {@code (seed, index + i)} only; −1 turns it off.
     *
     * @param index the global index of the call's first sample, or −1
     * @return this builder
     */
    public Builder firstSampleIndex(long index) {
      firstSampleIndex = index;
      return this;
    }

    // --- issue 13: precision ---
    /**
     * The networks' arithmetic (default {@link Precision#FP32}).
     *
     * @param v the precision
     * @return this builder
     */
    public Builder precision(Precision v) {
      precision = v;
      return this;
    }

    /**
     * Builds the options.
     *
     * @return the options
     */
    public GenerateOptions build() {
      return new GenerateOptions(
          gridPoints,
          method,
          guidance,
          guidanceScale,
          intervalMin,
          intervalMax,
          cancelled,
          firstSampleIndex,
          precision);
    }
  }
}
