package dev.rectok.torch.distributed;

import java.util.Map;
import java.util.Optional;

/**
 * The {@code torchrun} environment of one process: {@code RANK}, {@code WORLD_SIZE}, {@code
 * LOCAL_RANK}, {@code LOCAL_WORLD_SIZE}, {@code MASTER_ADDR}, {@code MASTER_PORT}, and {@code
 * GLOO_SOCKET_IFNAME} (interfaces for Gloo, comma-separated; PyTorch's Python binding reads it,
 * c10d does not, so the SDK does). Immutable.
 *
 * @param rank global rank, 0 .. worldSize − 1
 * @param worldSize number of processes in the job
 * @param localRank rank on this machine
 * @param localWorldSize processes on this machine
 * @param masterAddr host of rank 0's store
 * @param masterPort port of rank 0's store
 * @param socketIfname {@code GLOO_SOCKET_IFNAME}, or null
 */
public record DistributedEnv(
    int rank,
    int worldSize,
    int localRank,
    int localWorldSize,
    String masterAddr,
    int masterPort,
    String socketIfname) {

  /** torchrun's default {@code MASTER_PORT}. */
  public static final int DEFAULT_PORT = 29500;

  /** Checks the values; messages name the variable. */
  public DistributedEnv {
    if (worldSize < 1) {
      throw new IllegalArgumentException("WORLD_SIZE must be >= 1, got " + worldSize);
    }
    if (rank < 0 || rank >= worldSize) {
      throw new IllegalArgumentException(
          "RANK must be in 0.." + (worldSize - 1) + " (WORLD_SIZE=" + worldSize + "), got " + rank);
    }
    if (localWorldSize < 1 || localWorldSize > worldSize) {
      throw new IllegalArgumentException(
          "LOCAL_WORLD_SIZE must be in 1.." + worldSize + ", got " + localWorldSize);
    }
    if (localRank < 0 || localRank >= localWorldSize) {
      throw new IllegalArgumentException(
          "LOCAL_RANK must be in 0.." + (localWorldSize - 1) + ", got " + localRank);
    }
    if (masterAddr == null || masterAddr.isBlank()) {
      throw new IllegalArgumentException("MASTER_ADDR must name rank 0's host");
    }
    if (masterPort < 1 || masterPort > 65535) {
      throw new IllegalArgumentException("MASTER_PORT must be in 1..65535, got " + masterPort);
    }
  }

  /**
   * The distributed setting of {@code env} (e.g. {@code System.getenv()}), or empty when {@code
   * WORLD_SIZE} is not set (a plain single-process run).
   *
   * @throws IllegalArgumentException if a variable is malformed or out of range (the message names
   *     it)
   */
  public static Optional<DistributedEnv> from(Map<String, String> env) {
    String ws = env.get("WORLD_SIZE");
    if (ws == null || ws.isBlank()) {
      return Optional.empty();
    }
    int worldSize = intVar(env, "WORLD_SIZE", null);
    int rank = intVar(env, "RANK", null);
    int localWorldSize = intVar(env, "LOCAL_WORLD_SIZE", worldSize);
    int localRank = intVar(env, "LOCAL_RANK", rank % localWorldSize);
    String addr = env.getOrDefault("MASTER_ADDR", "127.0.0.1");
    int port = intVar(env, "MASTER_PORT", DEFAULT_PORT);
    String ifn = env.get("GLOO_SOCKET_IFNAME");
    return Optional.of(
        new DistributedEnv(
            rank,
            worldSize,
            localRank,
            localWorldSize,
            addr,
            port,
            ifn == null || ifn.isBlank() ? null : ifn));
  }

  private static int intVar(Map<String, String> env, String name, Integer fallback) {
    String v = env.get(name);
    if (v == null || v.isBlank()) {
      if (fallback == null) {
        throw new IllegalArgumentException(
            name + " must be set when WORLD_SIZE is (torchrun's environment)");
      }
      return fallback;
    }
    try {
      return Integer.parseInt(v.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be an integer, got '" + v + "'");
    }
  }

  /** Whether the store host is this machine's loopback (then Gloo binds 127.0.0.1 too). */
  public boolean loopback() {
    return masterAddr.equals("localhost")
        || masterAddr.startsWith("127.")
        || masterAddr.equals("::1");
  }

  /** Intra-op threads per process: {@code cores ÷ LOCAL_WORLD_SIZE}, at least 1. */
  public int threadsPerProcess(int cores) {
    return Math.max(1, cores / localWorldSize);
  }
}
