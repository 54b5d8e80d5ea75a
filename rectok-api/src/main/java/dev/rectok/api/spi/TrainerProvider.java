package dev.rectok.api.spi;

import dev.rectok.api.FlowDistiller;
import dev.rectok.api.FlowDistillerSpec;
import java.io.IOException;

/**
 * Service interface for tokenizer training (module {@code dev.rectok.train} provides one), so an
 * application compiled against the API finds the trainer on the module path. Implementations are
 * stateless and thread-safe.
 */
public interface TrainerProvider {

  /**
   * Opens a distiller for {@code spec}: checks the data, teacher and config, creates or reopens the
   * run directory.
   *
   * @param spec what to train, on which data, where
   * @return the distiller, owned by the caller
   * @throws IOException for unreadable data or teacher files, or a run directory whose config
   *     differs from {@code spec}
   */
  FlowDistiller openFlowDistiller(FlowDistillerSpec spec) throws IOException;

  /**
   * Higher wins when several providers are installed (the same rule as {@link Backend#priority()}).
   *
   * @return the priority; 0 unless overridden
   */
  default int priority() {
    return 0;
  }
}
