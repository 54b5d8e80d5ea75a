package dev.rectok.api.eval;

import dev.rectok.api.Device;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * What to evaluate and how: a sample set against a reference with given Inception weights.
 * Immutable (the metric set is copied); thread-safe.
 *
 * @param samples generated images: a folder of PNGs or an {@code .npz} with {@code arr_0}
 * @param reference an image folder, an {@code .npz} with {@code arr_0}, or statistics ({@code .npz}
 *     with {@code mu}, {@code sigma}); null when only the Inception Score is requested
 * @param inceptionWeights torch-fidelity's or pytorch-fid's {@code .pth}, or the SDK's converted
 *     {@code .safetensors}
 * @param metrics what to compute (at least one)
 * @param protocol whose formulas to use
 * @param device where the Inception network runs
 * @param batch images per network call (1..4096)
 * @param skipBad skip (and count) unreadable or mismatched sample images instead of failing
 * @param threads image decoder threads (1..256)
 * @param kidSubsets KID subsets (torch-fidelity's default 100)
 * @param kidSubsetSize rows per KID subset (torch-fidelity's default 1000)
 */
public record EvaluationRequest(
    Path samples,
    Path reference,
    Path inceptionWeights,
    Set<EvaluationMetric> metrics,
    EvaluationProtocol protocol,
    Device device,
    int batch,
    boolean skipBad,
    int threads,
    int kidSubsets,
    int kidSubsetSize) {

  /** Validates the values and copies the metric set. */
  public EvaluationRequest {
    Objects.requireNonNull(samples, "samples");
    Objects.requireNonNull(inceptionWeights, "inceptionWeights");
    Objects.requireNonNull(protocol, "protocol");
    Objects.requireNonNull(device, "device");
    metrics = Set.copyOf(metrics);
    if (metrics.isEmpty()) {
      throw new IllegalArgumentException("no metric requested");
    }
    if (reference == null && !metrics.equals(Set.of(EvaluationMetric.ISC))) {
      throw new IllegalArgumentException("every metric but the Inception Score needs a reference");
    }
    if (batch < 1 || batch > 4096 || threads < 1 || threads > 256) {
      throw new IllegalArgumentException(
          "batch must be in 1..4096 and threads in 1..256, got " + batch + ", " + threads);
    }
    if (kidSubsets < 1 || kidSubsetSize < 2) {
      throw new IllegalArgumentException(
          "KID needs at least 1 subset of at least 2 rows, got "
              + kidSubsets
              + " of "
              + kidSubsetSize);
    }
  }

  /**
   * A request with the defaults: torch-fidelity protocol, CPU, batches of 50, no skipping, one
   * decoder thread per core, torch-fidelity's KID subsets (100 of 1000).
   *
   * @param samples the generated images
   * @param reference the reference (see the record's description)
   * @param inceptionWeights the Inception weights file
   * @param metrics what to compute
   * @return the request
   */
  public static EvaluationRequest of(
      Path samples, Path reference, Path inceptionWeights, Set<EvaluationMetric> metrics) {
    return new EvaluationRequest(
        samples,
        reference,
        inceptionWeights,
        metrics.isEmpty() ? Set.of() : EnumSet.copyOf(metrics),
        EvaluationProtocol.TORCH_FIDELITY,
        Device.CPU,
        50,
        false,
        Runtime.getRuntime().availableProcessors(),
        100,
        1000);
  }

  /**
   * The same request under another protocol.
   *
   * @param p the protocol
   * @return the new request
   */
  public EvaluationRequest withProtocol(EvaluationProtocol p) {
    return new EvaluationRequest(
        samples,
        reference,
        inceptionWeights,
        metrics,
        p,
        device,
        batch,
        skipBad,
        threads,
        kidSubsets,
        kidSubsetSize);
  }

  /**
   * The same request on another device with another batch size.
   *
   * @param d where the network runs
   * @param b images per network call
   * @return the new request
   */
  public EvaluationRequest withDevice(Device d, int b) {
    return new EvaluationRequest(
        samples,
        reference,
        inceptionWeights,
        metrics,
        protocol,
        d,
        b,
        skipBad,
        threads,
        kidSubsets,
        kidSubsetSize);
  }

  /**
   * The same request with other KID subsets.
   *
   * @param subsets number of subsets
   * @param subsetSize rows per subset
   * @return the new request
   */
  public EvaluationRequest withKid(int subsets, int subsetSize) {
    return new EvaluationRequest(
        samples,
        reference,
        inceptionWeights,
        metrics,
        protocol,
        device,
        batch,
        skipBad,
        threads,
        subsets,
        subsetSize);
  }
}
