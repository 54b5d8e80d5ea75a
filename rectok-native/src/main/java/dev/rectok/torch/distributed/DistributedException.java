package dev.rectok.torch.distributed;

import java.util.List;

/**
 * A store operation, rendezvous or collective failed: a peer died or never came, a timeout elapsed,
 * the configuration disagrees between ranks, the port is taken. The message says which (and, where
 * {@link DistributedContext} could tell, which ranks are lost).
 *
 * <p>Immutable; safe to pass between threads.
 */
public class DistributedException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final transient List<Integer> lostRanks;

  /** A failure with no lost rank identified. */
  public DistributedException(String message) {
    this(message, List.of(), null);
  }

  /** A failure with the ranks found lost (possibly empty) and its cause (nullable). */
  public DistributedException(String message, List<Integer> lostRanks, Throwable cause) {
    super(message, cause);
    this.lostRanks = List.copyOf(lostRanks);
  }

  /** The ranks found dead or unreachable when the failure was diagnosed; empty when unknown. */
  public List<Integer> lostRanks() {
    return lostRanks;
  }
}
