package dev.rectok.torch.nn;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code nn.ModuleDict}, and any plain holder of named children (an {@code nn.Module} with only
 * submodules): state-dict keys read {@code sem_decoders.dinov3.out.weight}. It has no forward pass;
 * the owner calls the children.
 *
 * <p>Owns its children (closing it closes them, as for every {@link Module}). Threading as for
 * every {@link Module}: build and load on one thread; reading it afterwards is safe from any.
 *
 * @param <M> the children's type
 */
public final class ModuleDict<M extends Module> extends Module {
  private final Map<String, M> items = new LinkedHashMap<>();

  /** An empty dict. */
  public ModuleDict() {}

  /** Registers {@code m} under {@code name} and returns it. */
  public <T extends M> T put(String name, T m) {
    registerModule(name, m);
    items.put(name, m);
    return m;
  }

  /** The child named {@code name}, or null. */
  public M get(String name) {
    return items.get(name);
  }

  /** The children in registration order, as an unmodifiable view. */
  public Map<String, M> items() {
    return Collections.unmodifiableMap(items);
  }
}
