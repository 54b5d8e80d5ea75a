package dev.rectok.eval;

/**
 * NumPy's legacy {@code numpy.random.RandomState(seed)} (MT19937 seeded with {@code init_genrand})
 * as far as torch-fidelity's Inception Score needs it: {@link #permutation(int)} reproduces {@code
 * RandomState(seed).permutation(n)} element for element (a Fisher–Yates shuffle of {@code
 * arange(n)} from the last index down, each index drawn by masked rejection sampling on 32-bit
 * outputs), and {@link #choice(int, int)} reproduces {@code choice(n, size, replace=False)} (KID's
 * subsets), which legacy NumPy computes as {@code permutation(n)[:size]}. Not thread-safe (it is a
 * generator with state).
 */
public final class NumpyRandomState {
  private static final int N = 624;
  private static final int M = 397;
  private final int[] mt = new int[N];
  private int index;

  /** {@code RandomState(seed)} for an integer seed in [0, 2^32). */
  public NumpyRandomState(long seed) {
    if (seed < 0 || seed > 0xffffffffL) {
      throw new IllegalArgumentException("seed must be in [0, 2^32 - 1], got " + seed);
    }
    mt[0] = (int) seed;
    for (int i = 1; i < N; i++) {
      mt[i] = 1812433253 * (mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
    }
    index = N;
  }

  /** The next 32-bit output, as an unsigned value. */
  public long nextUint32() {
    if (index >= N) {
      twist();
    }
    int y = mt[index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y & 0xffffffffL;
  }

  private void twist() {
    for (int i = 0; i < N; i++) {
      int y = (mt[i] & 0x80000000) | (mt[(i + 1) % N] & 0x7fffffff);
      int v = mt[(i + M) % N] ^ (y >>> 1);
      if ((y & 1) != 0) {
        v ^= 0x9908b0df;
      }
      mt[i] = v;
    }
    index = 0;
  }

  /**
   * A uniform integer in [0, max] by NumPy's masked rejection ({@code random_interval}), max <
   * 2^32.
   */
  long interval(long max) {
    if (max == 0) {
      return 0;
    }
    long mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    long v;
    do {
      v = nextUint32() & mask;
    } while (v > max);
    return v;
  }

  /** {@code permutation(n)}: a shuffled {@code arange(n)}. */
  public int[] permutation(int n) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = n - 1; i >= 1; i--) {
      int j = (int) interval(i);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /**
   * {@code choice(n, size, replace=False)} without weights: NumPy's legacy generator takes the
   * first {@code size} entries of {@code permutation(n)}, so the whole permutation is drawn (and
   * the generator advances by it) however small {@code size} is.
   *
   * @throws IllegalArgumentException for {@code size > n} or a negative argument, as NumPy refuses
   */
  public int[] choice(int n, int size) {
    if (n < 0 || size < 0) {
      throw new IllegalArgumentException("n and size must be non-negative, got " + n + ", " + size);
    }
    if (size > n) {
      throw new IllegalArgumentException(
          "cannot take a larger sample ("
              + size
              + ") than the population ("
              + n
              + ") without replacement");
    }
    return java.util.Arrays.copyOf(permutation(n), size);
  }
}
