package dev.rectok.train;

import dev.rectok.api.FlowDistiller;
import dev.rectok.api.FlowDistillerSpec;
import dev.rectok.api.spi.TrainerProvider;
import dev.rectok.train.tokenizer.FlowDistillerRun;
import java.io.IOException;

/** Provides tokenizer training to {@link dev.rectok.api.Backends}. Stateless; thread-safe. */
public final class TrainerService implements TrainerProvider {

  @Override
  public FlowDistiller openFlowDistiller(FlowDistillerSpec spec) throws IOException {
    dev.rectok.models.DeviceCheck.requireAvailable(
        spec.device()); // a plain sentence, not LibTorch's dispatcher dump
    return FlowDistillerRun.open(spec);
  }
}
