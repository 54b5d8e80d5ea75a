package dev.rectok.generate;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;

/**
 * Initial noise per sample: global sample {@code g} draws its (C, H, W) standard normal from a CPU
 * generator seeded with {@code mix(seed, g)} (SplitMix64's finaliser of {@code seed} and {@code
 * g}), so a sample's latent depends only on the seed, its label and its global index — not on batch
 * size, threads or how many processes (shards, ranks) share the work. Stateless; thread-safe.
 */
public final class SampleNoise {
  private SampleNoise() {}

  /** The generator seed of global sample {@code index}. */
  public static long seedOf(long seed, long index) {
    long z = seed * 0x9E3779B97F4A7C15L + index + 0x632BE59BD9B4E019L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return (z ^ (z >>> 31)) & Long.MAX_VALUE;
  }

  /** Noise (n, C, H, W) for global samples {@code first .. first + n − 1}, on {@code device}. */
  public static Tensor of(long seed, long first, int n, int[] chw, Device device) {
    long[] seeds = new long[n];
    long[] indices = new long[n];
    for (int i = 0; i < n; i++) {
      seeds[i] = seed;
      indices[i] = first + i;
    }
    return of(seeds, indices, chw, device);
  }

  // --- issue 13: per-sample seeds ---
  /**
   * Noise (n, C, H, W) whose row {@code i} is global sample {@code indices[i]} of {@code seeds[i]}
   * (the same law as {@link #of(long, long, int, int[], Device)}, which calls it), on {@code
   * device}.
   */
  public static Tensor of(long[] seeds, long[] indices, int[] chw, Device device) {
    int n = seeds.length;
    try (Scope s = Scope.open()) {
      Tensor[] rows = new Tensor[n];
      for (int i = 0; i < n; i++) {
        try (TorchGenerator gen = TorchGenerator.cpu(seedOf(seeds[i], indices[i]))) {
          rows[i] =
              Tensor.randn(new long[] {1, chw[0], chw[1], chw[2]}, gen, DType.FLOAT32, Device.CPU);
        }
      }
      Tensor cpu = Tensor.cat(rows, 0);
      return s.keep(device.isCuda() ? cpu.to(device) : cpu);
    }
  }
}
