package dev.rectok.train.classifier;

import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.Activation;
import dev.rectok.torch.nn.Linear;
import dev.rectok.torch.nn.Sequential;
import dev.rectok.torch.nn.UnaryModule;

/**
 * A multi-layer perceptron on flattened images: {@code net.0} Linear, GELU, {@code net.2} Linear.
 * Owns its parameters; see {@link dev.rectok.torch.nn.Module} for the threading contract.
 */
public final class MlpClassifier extends UnaryModule {
  private final Sequential net;

  public MlpClassifier(long inFeatures, long hidden, long classes) {
    net =
        registerModule(
            "net",
            new Sequential(
                new Linear(inFeatures, hidden, true),
                Activation.gelu(false),
                new Linear(hidden, classes, true)));
  }

  /** Logits (N, classes) for images (N, ...). */
  @Override
  public Tensor forward(Tensor images) {
    try (Tensor flat = images.flatten(1, -1)) {
      return net.forward(flat);
    }
  }
}
