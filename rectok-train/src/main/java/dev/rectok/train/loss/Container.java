package dev.rectok.train.loss;

import dev.rectok.torch.nn.Module;

/** A plain holder of named children (an {@code nn.Module} with only submodules). Owns them. */
final class Container extends Module {
  <M extends Module> M add(String name, M child) {
    return registerModule(name, child);
  }
}
