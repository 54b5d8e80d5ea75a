package dev.rectok.torch.distributed;

/**
 * Test support: a {@link DistributedContext} around a group built by the test (it does not own it).
 */
final class Contexts {
  private Contexts() {}

  static DistributedContext of(int rank, int size, ProcessGroup group) {
    return DistributedContext.forGroup(rank, size, group);
  }
}
