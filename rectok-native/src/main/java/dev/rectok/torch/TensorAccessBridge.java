package dev.rectok.torch;

import dev.rectok.torch.internal.TensorAccess;

/** Installs {@link TensorAccess}'s bridge (issue 14); loaded by it on first use. */
final class TensorAccessBridge {
  static {
    TensorAccess.install(Tensor::handle);
  }

  private TensorAccessBridge() {}
}
