package dev.rectok.consumer;

import dev.rectok.api.Backends;
import dev.rectok.api.Device;
import dev.rectok.api.Tokenizer;
import dev.rectok.demomodels.FashionMnistModels;
import dev.rectok.torch.Tensor;

/**
 * An application with no logging set up: opens a model, then drops a tensor without closing it. Run
 * in a child JVM by {@link LoggingTest}, which reads what reached stderr.
 */
public final class LoggingProbe {
  private LoggingProbe() {}

  /** Opens the demo tokenizer, leaks one tensor and waits for the leak detector. */
  public static void main(String[] args) throws Exception {
    try (Tokenizer t =
        Backends.openTokenizerResource(
            FashionMnistModels.TOKENIZER, FashionMnistModels.loader(), Device.CPU)) {
      System.out.println("opened " + t.imageSize());
    }
    Tensor.zeros(4); // deliberately never closed
    for (int i = 0; i < 200 && Tensor.leaksReported() == 0; i++) {
      System.gc();
      Thread.sleep(20);
    }
    System.out.println("leaks " + Tensor.leaksReported());
  }
}
