package dev.rectok.torch.distributed;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Starts this machine's processes of a data-parallel job, as {@code torchrun} does: one process per
 * local rank with the {@code torchrun} environment ({@code RANK}, {@code WORLD_SIZE}, {@code
 * LOCAL_RANK}, {@code LOCAL_WORLD_SIZE}, {@code MASTER_ADDR}, {@code MASTER_PORT}), intra-op
 * threads = cores ÷ local processes ({@code OMP_NUM_THREADS}, unless set), their output prefixed
 * with {@code [rank r]}. When one exits with a failure the others are stopped (SIGTERM, then
 * SIGKILL after a grace period) and its exit code is returned; when the launcher's JVM stops, a
 * shutdown hook stops them too, and each child watches the launcher's pid ({@code
 * RECTOK_LAUNCHER_PID}), so no process outlives the job.
 *
 * <p><b>Threading.</b> {@link #run} blocks the calling thread; one call at a time per instance. The
 * launcher owns the processes it starts.
 *
 * @param command the command of every local process (e.g. {@code java ... RecTokCli train ...})
 * @param nprocPerNode processes on this machine
 * @param nnodes machines
 * @param nodeRank this machine's index
 * @param masterAddr rank 0's host
 * @param masterPort rank 0's store port
 * @param grace how long a stopped process may take to exit before SIGKILL
 * @param extraEnv more environment for every process
 */
public record LocalLauncher(
    List<String> command,
    int nprocPerNode,
    int nnodes,
    int nodeRank,
    String masterAddr,
    int masterPort,
    Duration grace,
    Map<String, String> extraEnv) {

  /** The environment variable a child reads to watch its launcher. */
  public static final String LAUNCHER_PID = "RECTOK_LAUNCHER_PID";

  /** Checks the values; messages name the option. */
  public LocalLauncher {
    command = List.copyOf(command);
    extraEnv = Map.copyOf(extraEnv);
    if (command.isEmpty()) {
      throw new IllegalArgumentException("no command to launch");
    }
    if (nprocPerNode < 1) {
      throw new IllegalArgumentException("--nproc-per-node must be >= 1, got " + nprocPerNode);
    }
    if (nnodes < 1) {
      throw new IllegalArgumentException("--nnodes must be >= 1, got " + nnodes);
    }
    if (nodeRank < 0 || nodeRank >= nnodes) {
      throw new IllegalArgumentException(
          "--node-rank must be in 0.." + (nnodes - 1) + ", got " + nodeRank);
    }
    if (masterPort < 1 || masterPort > 65535) {
      throw new IllegalArgumentException("--master-port must be in 1..65535, got " + masterPort);
    }
    Objects.requireNonNull(masterAddr, "masterAddr");
    Objects.requireNonNull(grace, "grace");
  }

  /** The environment of local rank {@code local} (besides the inherited one). */
  public Map<String, String> environment(int local, int cores) {
    Map<String, String> env = new java.util.LinkedHashMap<>(extraEnv);
    env.put("RANK", Integer.toString(nodeRank * nprocPerNode + local));
    env.put("WORLD_SIZE", Integer.toString(nnodes * nprocPerNode));
    env.put("LOCAL_RANK", Integer.toString(local));
    env.put("LOCAL_WORLD_SIZE", Integer.toString(nprocPerNode));
    env.put("GROUP_RANK", Integer.toString(nodeRank));
    env.put("MASTER_ADDR", masterAddr);
    env.put("MASTER_PORT", Integer.toString(masterPort));
    env.put(LAUNCHER_PID, Long.toString(ProcessHandle.current().pid()));
    if (System.getenv("OMP_NUM_THREADS") == null && !extraEnv.containsKey("OMP_NUM_THREADS")) {
      env.put("OMP_NUM_THREADS", Integer.toString(Math.max(1, cores / nprocPerNode)));
    }
    return env;
  }

  /**
   * Runs the local processes to the end; returns 0 when all succeeded, else the exit code of the
   * first that failed (or 1 if that was 0-less, e.g. a signal).
   */
  public int run(PrintStream out) throws IOException, InterruptedException {
    int cores = Runtime.getRuntime().availableProcessors();
    List<Process> procs = new ArrayList<>();
    List<Thread> pumps = new ArrayList<>();
    Thread hook = new Thread(() -> stopAll(procs, Duration.ofSeconds(2)));
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      for (int local = 0; local < nprocPerNode; local++) {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(environment(local, cores));
        Process p = pb.start();
        procs.add(p);
        int rank = nodeRank * nprocPerNode + local;
        Thread pump =
            Thread.ofPlatform()
                .daemon()
                .name("rectok-launch-out-" + rank)
                .start(() -> pump(p, rank, out));
        pumps.add(pump);
      }
      int failedRank = -1;
      int failedCode = 0;
      List<Process> running = new ArrayList<>(procs);
      while (!running.isEmpty()) {
        CompletableFuture<?> any =
            CompletableFuture.anyOf(
                running.stream().map(Process::onExit).toArray(CompletableFuture[]::new));
        try {
          any.get();
        } catch (java.util.concurrent.ExecutionException e) {
          throw new IOException(e.getCause());
        }
        for (var it = running.iterator(); it.hasNext(); ) {
          Process p = it.next();
          if (!p.isAlive()) {
            it.remove();
            int code = p.exitValue();
            if (code != 0 && failedRank < 0) {
              failedRank = nodeRank * nprocPerNode + procs.indexOf(p);
              failedCode = code;
            }
          }
        }
        if (failedRank >= 0 && !running.isEmpty()) {
          synchronized (out) {
            out.printf(
                "[launch] rank %d exited with code %d%s; stopping the %d other local process%s%n",
                failedRank,
                failedCode,
                failedCode > 128 ? " (signal " + (failedCode - 128) + ")" : "",
                running.size(),
                running.size() == 1 ? "" : "es");
          }
          stopAll(running, grace);
          running.clear();
        }
      }
      for (Thread t : pumps) {
        t.join(2000);
      }
      if (failedRank >= 0) {
        return failedCode == 0 ? 1 : failedCode;
      }
      return 0;
    } finally {
      stopAll(procs, grace);
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running or will run; nothing to remove
      }
    }
  }

  private static void pump(Process p, int rank, PrintStream out) {
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        synchronized (out) {
          out.println("[rank " + rank + "] " + line);
        }
      }
    } catch (IOException e) {
      // the process is gone
    }
  }

  /**
   * SIGTERM to every live process (and its children), SIGKILL to those still alive after {@code
   * grace}.
   */
  static void stopAll(List<Process> procs, Duration grace) {
    for (Process p : procs) {
      if (p.isAlive()) {
        p.descendants().forEach(ProcessHandle::destroy);
        p.destroy();
      }
    }
    long deadline = System.nanoTime() + grace.toNanos();
    for (Process p : procs) {
      try {
        long left = deadline - System.nanoTime();
        if (left <= 0 || !p.waitFor(left, TimeUnit.NANOSECONDS)) {
          p.descendants().forEach(ProcessHandle::destroyForcibly);
          p.destroyForcibly();
          p.waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        p.destroyForcibly();
      }
    }
  }

  /**
   * Stops this JVM (exit code 1, message on stderr) when the launcher named by {@code
   * RECTOK_LAUNCHER_PID} is gone, checking every second on a daemon thread. Nothing when the
   * variable is unset (e.g. under {@code torchrun}).
   */
  public static void watchLauncher(Map<String, String> env) {
    String pid = env.get(LAUNCHER_PID);
    if (pid == null || pid.isBlank()) {
      return;
    }
    long launcher;
    try {
      launcher = Long.parseLong(pid.strip());
    } catch (NumberFormatException e) {
      return;
    }
    Thread.ofPlatform()
        .daemon()
        .name("rectok-launcher-watch")
        .start(
            () -> {
              while (true) {
                if (ProcessHandle.of(launcher).map(h -> !h.isAlive()).orElse(true)) {
                  System.err.println(
                      "rectok: the launcher (pid " + launcher + ") is gone; stopping");
                  Runtime.getRuntime().halt(1);
                }
                try {
                  Thread.sleep(1000);
                } catch (InterruptedException e) {
                  return;
                }
              }
            });
  }
}
