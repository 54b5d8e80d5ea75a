package dev.rectok.generate.transport;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.api.Progress;
import dev.rectok.torch.CudaGraph;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * Fixed-grid ODE sampler of the reference ({@code Sampler.sample_ode} through torchdiffeq's
 * fixed-grid solvers): integrates dx/dt = v(x, t, y) from noise at t = 0 to data at t = 1 over
 * {@link TimeGrid#samplerGrid}, under {@link GradMode#inferenceMode()}, with no host round trip
 * inside the loop (the grid lives on the host; each step only launches device work).
 *
 * <ul>
 *   <li>{@link Method#EULER}: x_{i+1} = x_i + (t_{i+1} − t_i)·v(x_i, t_i), the dt a float32
 *       difference of grid values and the product rounded before the sum (torchdiffeq's {@code y0 +
 *       dt*f}); the last grid point is never evaluated. The evaluation setting is 150 points = 149
 *       steps, shift sqrt(8).
 *   <li>{@link Method#HEUN}: trapezoidal predictor-corrector, x_{i+1} = x_i + dt/2·(k1 + k2) with
 *       k1 = v(x_i, t_i), k2 = v(x_i + dt·k1, t_{i+1}); two evaluations per step.
 * </ul>
 *
 * <p>Immutable and thread-safe; one {@link #sample} call runs on the calling thread. The noise and
 * labels are borrowed (never modified); the returned samples are a new float32 tensor owned by the
 * caller, created in inference mode (it cannot enter autograd).
 */
public final class Sampler {
  /** Grid points of the reference's evaluation ({@code --num_sampling_steps 150}): 149 steps. */
  public static final int DEFAULT_GRID_POINTS = 150;

  /** ODE integration methods. */
  public enum Method {
    /** First-order Euler, what the reference uses. */
    EULER,
    /** Second-order Heun (trapezoidal). */
    HEUN
  }

  /**
   * Observes the state after each step. {@code state} is borrowed and only valid during the call
   * (it is updated in place by the next step: clone it to keep it; the clone belongs to the
   * caller's scope); {@code point} is the grid index the state belongs to (1..points−1).
   */
  @FunctionalInterface
  public interface StepListener {
    /** Called after the step that reached grid point {@code point} at time {@code t}. */
    void onStep(int point, float t, Tensor state);

    /** Ignores every step. */
    StepListener NONE = (point, t, state) -> {};
  }

  /**
   * Per-run hooks: progress reporting (on the sampling thread, one update per step), cancellation
   * (polled once per step, before its model evaluation, together with the thread's interrupt flag)
   * and a step listener.
   */
  public record Hooks(Progress progress, BooleanSupplier cancelled, StepListener listener) {
    /** No progress, no cancellation, no listener. */
    public static final Hooks NONE = new Hooks(Progress.NONE, () -> false, StepListener.NONE);

    /** Checks for nulls. */
    public Hooks {
      Objects.requireNonNull(progress, "progress");
      Objects.requireNonNull(cancelled, "cancelled");
      Objects.requireNonNull(listener, "listener");
    }

    /** These hooks with another progress sink. */
    public Hooks withProgress(Progress p) {
      return new Hooks(p, cancelled, listener);
    }

    /** These hooks with another cancellation flag. */
    public Hooks withCancellation(BooleanSupplier c) {
      return new Hooks(progress, c, listener);
    }

    /** These hooks with another step listener. */
    public Hooks withListener(StepListener l) {
      return new Hooks(progress, cancelled, l);
    }
  }

  private final Method method;
  private final double shift;
  private final float[] grid;
  private final boolean cudaGraphs;

  private Sampler(Method method, int points, double shift) {
    this(method, shift, TimeGrid.samplerGrid(points, shift), false);
  }

  private Sampler(Method method, double shift, float[] grid, boolean cudaGraphs) {
    this.method = Objects.requireNonNull(method, "method");
    this.shift = shift;
    this.grid = grid;
    this.cudaGraphs = cudaGraphs;
  }

  /**
   * This sampler with CUDA-graph replay of its steps on or off (off by default). With graphs, the
   * first Euler step of each guidance branch runs eagerly (warm-up), the second is captured into a
   * {@link CudaGraph}, and every later step of that branch is one replay: the time and step size
   * are written into device buffers before each replay. The values are those of the eager steps
   * (the same kernels). Needs a CUDA state tensor, a CUDA build of LibTorch 2.x and Euler; {@link
   * #sample} refuses otherwise, before any work.
   */
  public Sampler withCudaGraphs(boolean on) {
    return new Sampler(method, shift, grid, on);
  }

  /** Whether steps are replayed as CUDA graphs ({@link #withCudaGraphs}). */
  public boolean cudaGraphs() {
    return cudaGraphs;
  }

  /** A sampler over {@code points} grid points (points − 1 steps) with time shift {@code shift}. */
  public static Sampler of(Method method, int points, double shift) {
    return new Sampler(method, points, shift);
  }

  /** Euler over {@code points} grid points with time shift {@code shift}. */
  public static Sampler euler(int points, double shift) {
    return new Sampler(Method.EULER, points, shift);
  }

  /** Heun over {@code points} grid points with time shift {@code shift}. */
  public static Sampler heun(int points, double shift) {
    return new Sampler(Method.HEUN, points, shift);
  }

  /**
   * The reference's evaluation sampler for latents of {@code channels}×{@code h}×{@code w}: Euler,
   * 150 points.
   */
  public static Sampler evaluation(long channels, long h, long w) {
    return euler(DEFAULT_GRID_POINTS, TimeGrid.resolutionShift(channels, h, w));
  }

  /**
   * Initial noise x_0 ~ N(0, I) of {@code shape} as the reference draws it: on the CPU from {@code
   * gen} (the reference uses the CPU default generator), then moved to {@code device}, so a seed
   * gives the same noise on every device. Owned by the caller.
   */
  public static Tensor initialNoise(TorchGenerator gen, Device device, long... shape) {
    try (Scope s = Scope.open()) {
      Tensor cpu = Tensor.randn(shape, gen, DType.FLOAT32, Device.CPU);
      return s.keep(device.isCuda() ? cpu.to(device) : cpu);
    }
  }

  /** The integration method. */
  public Method method() {
    return method;
  }

  /** The time shift the grid was built with. */
  public double shift() {
    return shift;
  }

  /** A copy of the time grid. */
  public float[] grid() {
    return grid.clone();
  }

  /** Integration steps (grid points − 1). */
  public int steps() {
    return grid.length - 1;
  }

  /** Samples without guidance or hooks. */
  public Tensor sample(VelocityModel model, Tensor noise, Tensor labels) {
    return sample(model, Guidance.none(), noise, labels, Hooks.NONE);
  }

  /** Samples with guidance, without hooks. */
  public Tensor sample(VelocityModel model, Guidance guidance, Tensor noise, Tensor labels) {
    return sample(model, guidance, noise, labels, Hooks.NONE);
  }

  /**
   * Integrates from {@code noise} (B, ...) at t = 0 to t = 1 with class {@code labels} (B,).
   *
   * @return the samples x at the last grid point, float32, owned by the caller
   * @throws SamplingCancelledException when {@code hooks} cancels or the thread is interrupted
   */
  public Tensor sample(
      VelocityModel model, Guidance guidance, Tensor noise, Tensor labels, Hooks hooks) {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(guidance, "guidance");
    if (labels.dim() != 1 || labels.size(0) != noise.size(0)) {
      throw new IllegalArgumentException(
          "labels must be (B,) for a batch of " + noise.size(0) + ", got " + labels);
    }
    if (cudaGraphs) {
      String why = CudaGraph.unsupportedReason(noise.device());
      if (why != null) {
        throw new IllegalArgumentException("sampling with CUDA graphs: " + why);
      }
      if (method != Method.EULER) {
        throw new IllegalArgumentException(
            "sampling with CUDA graphs captures Euler steps only, not " + method);
      }
    }
    int steps = steps();
    long batch = noise.size(0);
    hooks
        .progress()
        .start(
            "sampling ("
                + method.name().toLowerCase(java.util.Locale.ROOT)
                + ", "
                + steps
                + " steps)",
            steps);
    // No scope around the whole run: x, y and the step buffers are closed here explicitly, so
    // whatever a listener creates belongs to the caller's scope, not to the sampler's.
    Tensor x = null;
    Tensor y = null;
    Tensor tb0 = null;
    Tensor tb1 = null;
    Tensor dtBuf = null;
    CudaGraph[] graphs = new CudaGraph[2];
    int[] eagerSteps = new int[2];
    Guidance.Run run = null;
    try (GradMode g = GradMode.inferenceMode()) {
      // A private float32 copy, updated in place: the caller's noise is never touched.
      x = noise.dtype() == DType.FLOAT32 ? noise.clone() : noise.to(DType.FLOAT32);
      // Labels follow the state to its device, as int64.
      y = labels.to(DType.INT64, x.device());
      // Buffers reused by every step (docs/generator.md#sampling-at-full-throughput): the (B,) time
      // vectors, and
      // the guidance's own (CFG's doubled batch). Each step then allocates only what the network
      // itself does; the update runs in place on the network output.
      tb0 = Tensor.full(new long[] {batch}, 0, DType.FLOAT32, x.device());
      if (method == Method.HEUN) {
        tb1 = Tensor.full(new long[] {batch}, 0, DType.FLOAT32, x.device());
      }
      run = guidance.begin(y, x);
      if (cudaGraphs) {
        dtBuf = Tensor.full(new long[] {1}, 0, DType.FLOAT32, x.device());
      }
      for (int i = 0; i < steps; i++) {
        boolean interrupted = Thread.currentThread().isInterrupted();
        if (interrupted || hooks.cancelled().getAsBoolean()) {
          throw new SamplingCancelledException(i, steps, interrupted);
        }
        float t0 = grid[i];
        float t1 = grid[i + 1];
        float dt = t1 - t0; // float32, as torchdiffeq's t1 - t0 on the float32 grid
        if (cudaGraphs) {
          graphStep(model, run, x, tb0, dtBuf, t0, dt, graphs, eagerSteps);
          hooks.listener().onStep(i + 1, t1, x);
          hooks.progress().update(i + 1, "t=" + t1);
          continue;
        }
        try (Scope step = Scope.open()) {
          tb0.fill_(t0);
          Tensor k1 = run.velocity(model, x, t0, tb0);
          if (method == Method.EULER) {
            // y0 + dt*f: the product rounded first, then the sum (k1 is ours: scaled in place)
            x.add_(k1.mul_(dt));
          } else {
            tb1.fill_(t1);
            Tensor predicted = x.add(k1.mul(dt));
            Tensor k2 = run.velocity(model, predicted, t1, tb1);
            x.add_(k1.add_(k2).mul_(dt * 0.5f));
          }
        }
        hooks.listener().onStep(i + 1, t1, x);
        hooks.progress().update(i + 1, "t=" + t1);
      }
      Tensor result = x;
      x = null;
      return result;
    } finally {
      for (CudaGraph graph : graphs) {
        if (graph != null) {
          graph.close();
        }
      }
      if (run != null) {
        run.close();
      }
      for (Tensor t : new Tensor[] {x, y, tb0, tb1, dtBuf}) {
        if (t != null) {
          t.close();
        }
      }
      hooks.progress().end();
    }
  }

  /**
   * One Euler step through a CUDA graph of its guidance branch: eager the first time the branch is
   * seen (warm-up: cuBLAS handles, allocator), captured the second time, replayed from then on. The
   * step reads the time and dt from device buffers written just before, so one graph serves every
   * step of its branch.
   */
  private static void graphStep(
      VelocityModel model,
      Guidance.Run run,
      Tensor x,
      Tensor tb0,
      Tensor dtBuf,
      float t0,
      float dt,
      CudaGraph[] graphs,
      int[] eagerSteps) {
    int key = run.branch(t0);
    if (key < 0 || key >= graphs.length) {
      throw new IllegalStateException("guidance branch " + key + " outside 0.." + graphs.length);
    }
    tb0.fill_(t0);
    dtBuf.fill_(dt);
    Runnable body =
        () -> {
          try (Scope step = Scope.open()) {
            x.add_(run.velocity(model, x, t0, tb0).mul_(dtBuf));
          }
        };
    if (graphs[key] == null && eagerSteps[key]++ >= 1) {
      graphs[key] = CudaGraph.capture(x.device(), body);
    }
    if (graphs[key] != null) {
      graphs[key].replay();
    } else {
      body.run();
    }
  }
}
