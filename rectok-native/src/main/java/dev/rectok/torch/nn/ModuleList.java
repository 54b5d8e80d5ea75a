package dev.rectok.torch.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * {@code nn.ModuleList}: children registered under {@code 0, 1, 2, ...}, so state-dict keys read
 * {@code blocks.3.attn.qkv.weight}. It has no forward pass; the owner iterates it.
 *
 * <p>Owns its children (closing it closes them, as for every {@link Module}). Threading as for
 * every {@link Module}: build and load on one thread; reading it afterwards is safe from any.
 *
 * @param <M> the children's type
 */
public final class ModuleList<M extends Module> extends Module {
  private final List<M> items = new ArrayList<>();

  /** An empty list. */
  public ModuleList() {}

  /** Appends {@code m} under the next number and returns it. */
  public M add(M m) {
    registerModule(Integer.toString(items.size()), m);
    items.add(m);
    return m;
  }

  /** Child {@code i}. */
  public M get(int i) {
    return items.get(i);
  }

  /** The number of children. */
  public int size() {
    return items.size();
  }

  /** The children in order, as an unmodifiable view. */
  public List<M> items() {
    return Collections.unmodifiableList(items);
  }
}
