package dev.rectok.torch.distributed;

import dev.rectok.torch.internal.Shim;

/** The element-wise reduction of an all-reduce ({@code torch.distributed.ReduceOp}). Immutable. */
public enum ReduceOp {
  /** Sum over ranks. */
  SUM(Shim.RT_REDUCE_SUM),
  /** Product over ranks. */
  PRODUCT(Shim.RT_REDUCE_PRODUCT),
  /** Minimum over ranks. */
  MIN(Shim.RT_REDUCE_MIN),
  /** Maximum over ranks. */
  MAX(Shim.RT_REDUCE_MAX);

  final int code;

  ReduceOp(int code) {
    this.code = code;
  }
}
