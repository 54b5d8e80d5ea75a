package dev.rectok.torch.nn;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code nn.Sequential}: children named {@code 0, 1, 2, ...} applied in order, so state-dict keys
 * read {@code ffn.0.weight}. Owns its children.
 *
 * <p>Owns its parameters; threading as for every {@link Module}: concurrent eval-mode forwards are
 * safe, training and loading are single-threaded.
 */
public final class Sequential extends UnaryModule {
  private final List<UnaryModule> layers = new ArrayList<>();

  public Sequential(UnaryModule... layers) {
    for (UnaryModule m : layers) {
      add(m);
    }
  }

  /** Appends a layer under the next number. */
  public Sequential add(UnaryModule m) {
    registerModule(Integer.toString(layers.size()), m);
    layers.add(m);
    return this;
  }

  /** Layer {@code i}. */
  public UnaryModule get(int i) {
    return layers.get(i);
  }

  public int size() {
    return layers.size();
  }

  @Override
  public Tensor forward(Tensor input) {
    if (layers.isEmpty()) {
      return input.alias();
    }
    // Intermediates die in the scope; only the last output is kept for the caller.
    try (Scope s = Scope.open()) {
      Tensor x = input;
      for (UnaryModule m : layers) {
        x = m.forward(x);
      }
      return s.keep(x);
    }
  }
}
