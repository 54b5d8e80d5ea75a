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
    return FlowDistillerRun.open(spec);
  }
}
