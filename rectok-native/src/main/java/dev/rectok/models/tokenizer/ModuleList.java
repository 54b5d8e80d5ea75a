package dev.rectok.models.tokenizer;

import dev.rectok.torch.nn.Module;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * {@code nn.ModuleList} / {@code nn.ModuleDict}: children registered under numbers or names so
 * state-dict keys read {@code transformer.3.attn.qkv.weight} or {@code sem_decoders.dinov3.out.weight}.
 * It has no forward pass. Owns its children.
 */
final class ModuleList<M extends Module> extends Module {
  private final List<M> items = new ArrayList<>();

  /** Appends under the next number. */
  M add(M m) {
    registerModule(Integer.toString(items.size()), m);
    items.add(m);
    return m;
  }

  /** Registers under a name (the {@code ModuleDict} use). */
  M put(String name, M m) {
    registerModule(name, m);
    items.add(m);
    return m;
  }

  List<M> items() {
    return Collections.unmodifiableList(items);
  }
}
