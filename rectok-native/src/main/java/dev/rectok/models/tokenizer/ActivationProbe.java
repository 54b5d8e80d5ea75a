package dev.rectok.models.tokenizer;

import dev.rectok.torch.Tensor;

/**
 * Receives named intermediate activations during a forward pass (the golden files' {@code debug.*}
 * tensors: {@code patch_embed}, {@code block0}, {@code ln_post}, ...). The tensor is borrowed and
 * only valid during the call: clone it to keep it. Called on the forward pass's thread.
 */
@FunctionalInterface
public interface ActivationProbe {
  /** Ignores everything. */
  ActivationProbe NONE = (name, t) -> {};

  void record(String name, Tensor activation);
}
