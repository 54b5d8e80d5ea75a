package dev.rectok.torch.distributed;

import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One process's membership in a data-parallel job: rank 0's TCP store at {@code
 * MASTER_ADDR:MASTER_PORT}, a checked rendezvous, the default Gloo {@link ProcessGroup} (its store
 * keys under {@code default_pg}, as PyTorch's), and heartbeats that let a failed collective name
 * the lost ranks. {@link #local()} is the world of one (no native state).
 *
 * <p>The rendezvous fails with a message, never a hang past the timeout: the port taken on rank 0,
 * rank 0 unreachable, ranks that did not join (named), a rank started twice, {@code WORLD_SIZE}
 * differing between ranks.
 *
 * <p><b>Ownership.</b> Owns the store, the group and the heartbeat thread; {@link #close} frees
 * them. <b>Threading.</b> Collectives from one thread (see {@link ProcessGroup}); the accessors
 * from any thread.
 */
public final class DistributedContext implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(DistributedContext.class.getName());
  private static final String KEYS = "rectok/";

  private final int rank;
  private final int size;
  private final int localRank;
  private final int localSize;
  private final Store store;
  private final ProcessGroup group;
  private final Liveness liveness;
  private final boolean owner;

  private DistributedContext(
      int rank,
      int size,
      int localRank,
      int localSize,
      Store store,
      ProcessGroup group,
      Liveness liveness) {
    this(rank, size, localRank, localSize, store, group, liveness, true);
  }

  private DistributedContext(
      int rank,
      int size,
      int localRank,
      int localSize,
      Store store,
      ProcessGroup group,
      Liveness liveness,
      boolean owner) {
    this.owner = owner;
    this.rank = rank;
    this.size = size;
    this.localRank = localRank;
    this.localSize = localSize;
    this.store = store;
    this.group = group;
    this.liveness = liveness;
  }

  // --- issue 14: the process's installed job, read by the trainers and the evaluations ---
  private static final DistributedContext ONE = local();
  private static volatile DistributedContext installed = ONE;

  /**
   * Makes {@code context} this process's job, the one the trainers ({@code DataParallel}) and the
   * evaluations ({@code dev.rectok.eval.EvalParallel}) run in; the caller keeps ownership and
   * closes it.
   */
  public static void install(DistributedContext context) {
    installed = Objects.requireNonNull(context, "context");
  }

  /** Back to the world of one. */
  public static void uninstall() {
    installed = ONE;
  }

  /** The installed job, or the world of one when none is. */
  public static DistributedContext installed() {
    return installed;
  }

  /**
   * The world of one process: rank 0 of 1, no store, no group; every collective is the identity.
   */
  public static DistributedContext local() {
    return new DistributedContext(0, 1, 0, 1, null, null, null);
  }

  /**
   * A context around a group the caller built and keeps owning (no store, no heartbeats); for
   * embedding applications with their own rendezvous, and for tests. {@link #close} frees nothing.
   */
  public static DistributedContext forGroup(int rank, int size, ProcessGroup group) {
    java.util.Objects.requireNonNull(group, "group");
    if (group.rank() != rank || group.size() != size) {
      throw new IllegalArgumentException(
          "the group is rank "
              + group.rank()
              + " of "
              + group.size()
              + ", not "
              + rank
              + " of "
              + size);
    }
    return new DistributedContext(rank, size, rank, size, null, group, null, false);
  }

  /**
   * The job described by the environment ({@link DistributedEnv#from}), or {@link #local()} when
   * {@code WORLD_SIZE} is unset or 1.
   */
  public static DistributedContext fromEnvironment(Map<String, String> env, Duration timeout) {
    return DistributedEnv.from(env)
        .filter(e -> e.worldSize() > 1)
        .map(e -> init(e, timeout))
        .orElseGet(DistributedContext::local);
  }

  /**
   * Joins the job: rank 0 serves the store, every rank checks in, and the Gloo group connects.
   * Blocks at most about {@code timeout} per phase.
   *
   * @throws DistributedException naming what went wrong (see the class comment)
   */
  public static DistributedContext init(DistributedEnv env, Duration timeout) {
    Objects.requireNonNull(env, "env");
    int rank = env.rank();
    int size = env.worldSize();
    String where = env.masterAddr() + ":" + env.masterPort();
    Store store;
    try {
      store = Store.tcp(env.masterAddr(), env.masterPort(), rank == 0, size, timeout);
    } catch (DistributedException e) {
      throw new DistributedException(
          rank == 0
              ? "rank 0 could not serve the store on "
                  + where
                  + " (is the port in use? choose another MASTER_PORT / "
                  + "--master-port): "
                  + e.getMessage()
              : "rank "
                  + rank
                  + " could not reach rank 0's store at "
                  + where
                  + " within "
                  + timeout.toSeconds()
                  + " s (is rank 0 running, MASTER_ADDR/MASTER_PORT right?): "
                  + e.getMessage(),
          rank == 0 ? List.of() : List.of(0),
          e);
    }
    ProcessGroup pg = null;
    Store pgStore = null;
    Liveness live = null;
    try {
      rendezvous(store, rank, size, timeout, where);
      pgStore = store.prefix("default_pg");
      ProcessGroup.GlooOptions opts =
          new ProcessGroup.GlooOptions(
              timeout,
              2,
              env.socketIfname(),
              env.socketIfname() == null && env.loopback() ? "127.0.0.1" : null);
      pg = ProcessGroup.gloo(pgStore, rank, size, opts);
      live = new Liveness(store, rank, size, Duration.ofMillis(500));
      pg.liveness(live);
      LOG.log(Level.INFO, "rank {0} of {1} joined (store {2}, Gloo)", rank, size, where);
      return new DistributedContext(
          rank, size, env.localRank(), env.localWorldSize(), store, pg, live);
    } catch (RuntimeException e) {
      for (AutoCloseable c : new AutoCloseable[] {live, pg, pgStore, store}) {
        try {
          if (c != null) {
            c.close();
          }
        } catch (Exception suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    } finally {
      if (pgStore != null) {
        pgStore.close(); // the group holds its own reference
      }
    }
  }

  /**
   * Each rank checks in with its WORLD_SIZE; every rank verifies the others' within the timeout.
   */
  private static void rendezvous(Store store, int rank, int size, Duration timeout, String where) {
    if (store.add(KEYS + "claim/" + rank, 1) > 1) {
      throw new DistributedException(
          "rank "
              + rank
              + " was started twice for the store at "
              + where
              + " (each process needs its own RANK; or a previous job still uses this MASTER_PORT)");
    }
    store.set(KEYS + "world_size/" + rank, Integer.toString(size));
    long deadline = System.nanoTime() + timeout.toNanos();
    List<Integer> missing = new ArrayList<>();
    for (int r = 0; r < size; r++) {
      missing.add(r);
    }
    while (!missing.isEmpty()) {
      for (var it = missing.iterator(); it.hasNext(); ) {
        int r = it.next();
        if (store.check(KEYS + "world_size/" + r)) {
          int theirs =
              Integer.parseInt(
                  new String(store.get(KEYS + "world_size/" + r), StandardCharsets.UTF_8));
          if (theirs != size) {
            refuseTogether(store, rank, Math.max(size, theirs));
            throw new DistributedException(
                "WORLD_SIZE differs between ranks: rank "
                    + rank
                    + " has "
                    + size
                    + ", rank "
                    + r
                    + " has "
                    + theirs
                    + " (start every process with the same WORLD_SIZE)");
          }
          it.remove();
        }
      }
      if (missing.isEmpty()) {
        break;
      }
      if (System.nanoTime() > deadline) {
        throw new DistributedException(
            "rank "
                + rank
                + ": rank"
                + (missing.size() > 1 ? "s " : " ")
                + missing.stream()
                    .map(String::valueOf)
                    .collect(java.util.stream.Collectors.joining(", "))
                + " of WORLD_SIZE="
                + size
                + " did not join the store at "
                + where
                + " within "
                + timeout.toSeconds()
                + " s",
            missing,
            null);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new DistributedException("interrupted while waiting for the other ranks");
      }
    }
  }

  /**
   * Marks this rank as having seen a WORLD_SIZE mismatch. Rank 0 hosts the store, so it then waits
   * (at most {@link #REFUSAL_LINGER}) until every rank that checked in has seen it too: closing the
   * store at once would hand a slower rank a broken pipe instead of the mismatch message.
   */
  private static void refuseTogether(Store store, int rank, int ranks) {
    try {
      store.set(KEYS + "refused/" + rank, "1");
      if (rank != 0) {
        return;
      }
      long deadline = System.nanoTime() + REFUSAL_LINGER.toNanos();
      for (int r = 1; r < ranks; r++) {
        while (store.check(KEYS + "claim/" + r)
            && !store.check(KEYS + "refused/" + r)
            && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
      }
    } catch (DistributedException e) {
      // the store is already gone: the mismatch message still goes to this rank's caller
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** How long rank 0 keeps the store up for the others to read a WORLD_SIZE mismatch. */
  private static final Duration REFUSAL_LINGER = Duration.ofSeconds(5);

  /** This process's global rank. */
  public int rank() {
    return rank;
  }

  /** The number of processes. */
  public int size() {
    return size;
  }

  /** This process's rank on its machine. */
  public int localRank() {
    return localRank;
  }

  /** Processes on this machine. */
  public int localSize() {
    return localSize;
  }

  /** Whether this is rank 0, the one that writes checkpoints, metrics and samples. */
  public boolean isMain() {
    return rank == 0;
  }

  /** Whether there is more than one process. */
  public boolean isDistributed() {
    return size > 1;
  }

  /** The default process group (borrowed), or null for {@link #local()}. */
  public ProcessGroup group() {
    return group;
  }

  /** The job's store (borrowed), or null for {@link #local()}. */
  public Store store() {
    return store;
  }

  /** Waits until every rank got here (nothing for {@link #local()}). */
  public void barrier() {
    if (group != null) {
      group.barrierAndWait();
    }
  }

  /**
   * Frees the group, the heartbeat and the store. Call {@link #barrier} first on a clean exit so
   * rank 0 does not stop serving the store while others still use it. Idempotent.
   */
  @Override
  public void close() {
    if (!owner) {
      return;
    }
    if (liveness != null) {
      liveness.close();
    }
    if (group != null) {
      group.close();
    }
    if (store != null) {
      store.close();
    }
  }
}
