package dev.rectok.eval;

import dev.rectok.api.DType;
import dev.rectok.api.Progress;
import dev.rectok.api.eval.EvaluationMetric;
import dev.rectok.api.eval.EvaluationReport;
import dev.rectok.api.eval.EvaluationRequest;
import dev.rectok.api.spi.EvaluatorProvider;
import dev.rectok.models.inception.InceptionV3;
import dev.rectok.models.inception.InceptionWeights;
import java.io.IOException;
import java.nio.file.Files;
import java.util.EnumSet;
import java.util.Set;

/**
 * The {@link EvaluatorProvider} service of this module: {@link Evaluation#run} with the Inception
 * network loaded from the request's weights (float32, on the request's device). Stateless and
 * thread-safe; each call loads and closes its own network.
 */
public final class TorchEvaluator implements EvaluatorProvider {
  /** The service constructor. */
  public TorchEvaluator() {}

  @Override
  public EvaluationReport evaluate(EvaluationRequest request, Progress progress)
      throws IOException {
    if (!Files.exists(request.samples())) {
      throw new java.nio.file.NoSuchFileException(
          request.samples().toString(), null, "no such sample folder or .npz");
    }
    Set<Evaluation.Metric> metrics = EnumSet.noneOf(Evaluation.Metric.class);
    for (EvaluationMetric m : request.metrics()) {
      metrics.add(Evaluation.Metric.valueOf(m.name()));
    }
    Fid.Protocol protocol = Fid.Protocol.of(request.protocol().key());
    Evaluation.Options o =
        new Evaluation.Options(
            metrics,
            protocol,
            request.batch(),
            request.skipBad(),
            request.threads(),
            KernelInceptionDistance.Options.DEFAULTS.withSubsets(
                request.kidSubsets(), request.kidSubsetSize()));
    Evaluation.Report r;
    try (InceptionV3 net = InceptionWeights.load(request.inceptionWeights())) {
      net.to(DType.FLOAT32, request.device());
      r = Evaluation.run(net, request.samples(), request.reference(), o, progress);
    }
    return new EvaluationReport(
        request.protocol(),
        r.metrics(),
        r.samples(),
        r.skipped(),
        r.referenceImages(),
        r.referenceStoredStatistics(),
        FileHashes.sha256(request.reference()),
        FileHashes.sha256(request.inceptionWeights()));
  }
}
