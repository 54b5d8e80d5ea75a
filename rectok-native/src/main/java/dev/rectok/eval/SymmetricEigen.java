package dev.rectok.eval;

import java.util.Arrays;
import java.util.function.DoubleUnaryOperator;

/**
 * Eigen-decomposition {@code A = V diag(w) Vᵀ} of a real symmetric matrix, in plain Java on {@code
 * double[][]}: Householder reduction to tridiagonal form {@code A = Q T Qᵀ}, then the implicit
 * symmetric QR algorithm with Wilkinson shifts on T (Golub &amp; Van Loan, §8.3), whose rotations
 * accumulate into {@code V = Q Z}. About {@code 9 n³} flops with eigenvectors and {@code 4/3 n³}
 * without; both steps are backward stable, so {@code ‖A − V diag(w) Vᵀ‖} is a small multiple of
 * {@code ε‖A‖} and V is orthonormal to working precision.
 *
 * <p>The input is symmetrised as {@code (A + Aᵀ)/2} and never modified. Eigenvalues are sorted
 * ascending; {@link #vectors()} holds the matching unit eigenvectors as columns. Instances are
 * immutable (accessors return copies) and thread-safe; no native memory is involved.
 */
public final class SymmetricEigen {
  private final double[] values;
  private final double[][] vectors; // column k = eigenvector k, or null when not requested

  private SymmetricEigen(double[] values, double[][] vectors) {
    this.values = values;
    this.vectors = vectors;
  }

  /** Eigenvalues and eigenvectors of the symmetric matrix {@code a}. */
  public static SymmetricEigen of(double[][] a) {
    return decompose(a, true);
  }

  /**
   * Eigenvalues of the symmetric matrix {@code a}, ascending (no eigenvectors: about twice as
   * fast).
   */
  public static double[] valuesOf(double[][] a) {
    return decompose(a, false).values;
  }

  /**
   * The principal square root {@code V diag(√max(w, 0)) Vᵀ} of a symmetric positive semi-definite
   * matrix. Eigenvalues that rounding made slightly negative are clamped to 0.
   */
  public static double[][] sqrtPsd(double[][] a) {
    return of(a).apply(w -> Math.sqrt(Math.max(w, 0.0)));
  }

  /** Eigenvalues, ascending (a copy). */
  public double[] values() {
    return values.clone();
  }

  /**
   * Eigenvectors as columns: {@code vectors()[i][k]} is component {@code i} of eigenvector {@code
   * k} (a copy).
   */
  public double[][] vectors() {
    double[][] v = new double[vectors.length][];
    for (int i = 0; i < v.length; i++) {
      v[i] = vectors[i].clone();
    }
    return v;
  }

  /**
   * {@code V diag(f(w)) Vᵀ}: the matrix function {@code f(A)}; {@code f = identity} reconstructs A.
   */
  public double[][] apply(DoubleUnaryOperator f) {
    int n = values.length;
    double[] fw = new double[n];
    for (int k = 0; k < n; k++) {
      fw[k] = f.applyAsDouble(values[k]);
    }
    // (V diag(fw)) Vᵀ, written as rows of V scaled then dotted: r[i][j] = Σ_k V[i][k] fw[k] V[j][k]
    double[][] scaled = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < n; k++) {
        scaled[i][k] = vectors[i][k] * fw[k];
      }
    }
    double[][] r = new double[n][n];
    for (int i = 0; i < n; i++) {
      double[] si = scaled[i];
      for (int j = i; j < n; j++) {
        double[] vj = vectors[j];
        double sum = 0;
        for (int k = 0; k < n; k++) {
          sum += si[k] * vj[k];
        }
        r[i][j] = sum;
        r[j][i] = sum;
      }
    }
    return r;
  }

  private static SymmetricEigen decompose(double[][] input, boolean wantVectors) {
    int n = checkSquare(input);
    double[][] a = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        double v = 0.5 * (input[i][j] + input[j][i]);
        if (!Double.isFinite(v)) {
          throw new IllegalArgumentException(
              "matrix entry (" + i + ", " + j + ") is not finite: " + v);
        }
        a[i][j] = v;
      }
    }
    double[] d = new double[n];
    double[] e = new double[n]; // e[i] = T[i][i+1]; e[n-1] unused
    double[][] q = wantVectors ? identity(n) : null;
    tridiagonalize(a, d, e, q);
    // zt holds Zᵀ: row k is the current k-th column of Z, so QR rotations touch two contiguous rows
    double[][] zt = wantVectors ? transpose(q) : null;
    tridiagonalQr(d, e, zt);
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (x, y) -> Double.compare(d[x], d[y]));
    double[] values = new double[n];
    double[][] vectors = wantVectors ? new double[n][n] : null;
    for (int k = 0; k < n; k++) {
      values[k] = d[order[k]];
      if (wantVectors) {
        double[] row = zt[order[k]];
        for (int i = 0; i < n; i++) {
          vectors[i][k] = row[i];
        }
      }
    }
    return new SymmetricEigen(values, vectors);
  }

  /**
   * Householder reduction {@code A = Q T Qᵀ}: for each column k, the reflector {@code H = I − β v
   * vᵀ} with {@code v = x − α e₁}, {@code α = −sign(x₀)‖x‖} maps {@code x = A[k+1:, k]} to {@code α
   * e₁}; the trailing block is updated as {@code B ← B − v wᵀ − w vᵀ} with {@code p = β B v},
   * {@code w = p − (β pᵀv / 2) v}. Destroys {@code a}; fills the diagonal {@code d} and
   * off-diagonal {@code e} of T and, when {@code q} is not null, accumulates {@code Q = H₀ H₁ ⋯}
   * into it (starting from I).
   */
  private static void tridiagonalize(double[][] a, double[] d, double[] e, double[][] q) {
    int n = a.length;
    double[] v = new double[n];
    double[] w = new double[n];
    for (int k = 0; k < n - 2; k++) {
      int m = n - k - 1; // length of x = a[k+1..n-1][k]
      double norm2 = 0;
      for (int i = 0; i < m; i++) {
        v[i] = a[k + 1 + i][k];
        norm2 += v[i] * v[i];
      }
      double rest2 = norm2 - v[0] * v[0];
      if (rest2 == 0) { // already tridiagonal in this column
        continue;
      }
      double alpha = -Math.copySign(Math.sqrt(norm2), v[0]);
      v[0] -= alpha;
      double vtv = v[0] * v[0] + rest2;
      double beta = 2 / vtv;
      // p = β B v, with B = a[k+1.., k+1..]
      double pv = 0;
      for (int i = 0; i < m; i++) {
        double[] row = a[k + 1 + i];
        double s = 0;
        for (int j = 0; j < m; j++) {
          s += row[k + 1 + j] * v[j];
        }
        w[i] = beta * s;
        pv += w[i] * v[i];
      }
      double half = 0.5 * beta * pv;
      for (int i = 0; i < m; i++) {
        w[i] -= half * v[i];
      }
      for (int i = 0; i < m; i++) {
        double[] row = a[k + 1 + i];
        double vi = v[i];
        double wi = w[i];
        for (int j = 0; j < m; j++) {
          row[k + 1 + j] -= vi * w[j] + wi * v[j];
        }
      }
      a[k + 1][k] = alpha;
      a[k][k + 1] = alpha;
      for (int i = 1; i < m; i++) {
        a[k + 1 + i][k] = 0;
        a[k][k + 1 + i] = 0;
      }
      if (q != null) { // Q ← Q H: each row r gets r − β (r·v) v on columns k+1..
        for (double[] row : q) {
          double s = 0;
          for (int j = 0; j < m; j++) {
            s += row[k + 1 + j] * v[j];
          }
          s *= beta;
          if (s != 0) {
            for (int j = 0; j < m; j++) {
              row[k + 1 + j] -= s * v[j];
            }
          }
        }
      }
    }
    for (int i = 0; i < n; i++) {
      d[i] = a[i][i];
      e[i] = i + 1 < n ? a[i][i + 1] : 0;
    }
  }

  /**
   * Implicit symmetric QR on the tridiagonal {@code (d, e)} with Wilkinson shifts and bulge
   * chasing, deflating when {@code |e_i| ≤ ε(|d_i| + |d_{i+1}|)}. Each rotation {@code R = [[c, s],
   * [−s, c]]} in the plane (k, k+1) maps {@code T ← R T Rᵀ}; when {@code zt} is not null its rows
   * k, k+1 are rotated the same way ({@code Z ← Z Rᵀ}). Leaves the eigenvalues in {@code d}.
   */
  private static void tridiagonalQr(double[] d, double[] e, double[][] zt) {
    int n = d.length;
    double eps = Math.ulp(1.0);
    double anorm = 0;
    for (int i = 0; i < n; i++) {
      anorm = Math.max(anorm, Math.abs(d[i]) + Math.abs(e[i]));
    }
    double floor = Double.MIN_NORMAL + eps * eps * anorm;
    int iterations = 0;
    int hi = n - 1;
    while (hi > 0) {
      if (negligible(d, e, hi - 1, eps, floor)) {
        e[hi - 1] = 0;
        hi--;
        continue;
      }
      int lo = hi - 1;
      while (lo > 0 && !negligible(d, e, lo - 1, eps, floor)) {
        lo--;
      }
      if (lo > 0) {
        e[lo - 1] = 0;
      }
      if (++iterations > 50 * n) {
        throw new IllegalStateException("tridiagonal QR did not converge");
      }
      // Wilkinson shift: the eigenvalue of the trailing 2x2 block closer to d[hi]
      double half = (d[hi - 1] - d[hi]) / 2;
      double b = e[hi - 1];
      double mu = d[hi] - b * b / (half + Math.copySign(Math.hypot(half, b), half == 0 ? 1 : half));
      double x = d[lo] - mu;
      double z = e[lo];
      for (int k = lo; k < hi; k++) {
        double r = Math.hypot(x, z);
        double c = r == 0 ? 1 : x / r;
        double s = r == 0 ? 0 : z / r;
        if (k > lo) {
          e[k - 1] = r; // the bulge at (k-1, k+1) is now zero
        }
        double ak = d[k];
        double bk = e[k];
        double fk = d[k + 1];
        d[k] = c * c * ak + 2 * c * s * bk + s * s * fk;
        d[k + 1] = s * s * ak - 2 * c * s * bk + c * c * fk;
        e[k] = c * s * (fk - ak) + (c * c - s * s) * bk;
        if (k + 1 < hi) {
          double g = e[k + 1];
          z = s * g; // new bulge at (k, k+2)
          e[k + 1] = c * g;
          x = e[k];
        }
        if (zt != null) {
          double[] zk = zt[k];
          double[] zk1 = zt[k + 1];
          for (int i = 0; i < zk.length; i++) {
            double p = zk[i];
            double t = zk1[i];
            zk[i] = c * p + s * t;
            zk1[i] = -s * p + c * t;
          }
        }
      }
    }
  }

  private static boolean negligible(double[] d, double[] e, int i, double eps, double floor) {
    double t = Math.abs(e[i]);
    return t <= eps * (Math.abs(d[i]) + Math.abs(d[i + 1])) || t <= floor;
  }

  private static double[][] identity(int n) {
    double[][] m = new double[n][n];
    for (int i = 0; i < n; i++) {
      m[i][i] = 1;
    }
    return m;
  }

  private static double[][] transpose(double[][] m) {
    int n = m.length;
    double[][] t = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        t[j][i] = m[i][j];
      }
    }
    return t;
  }

  /** Checks that {@code a} is a non-empty square matrix and returns its order. */
  static int checkSquare(double[][] a) {
    if (a == null || a.length == 0) {
      throw new IllegalArgumentException("matrix must be non-empty");
    }
    int n = a.length;
    for (int i = 0; i < n; i++) {
      if (a[i] == null || a[i].length != n) {
        throw new IllegalArgumentException(
            "matrix must be square "
                + n
                + "x"
                + n
                + ", row "
                + i
                + " has "
                + (a[i] == null ? "null" : a[i].length + " entries"));
      }
    }
    return n;
  }

  /** {@code a · b} for square matrices of the same order (i-k-j loop order for cache locality). */
  static double[][] multiply(double[][] a, double[][] b) {
    int n = a.length;
    double[][] r = new double[n][n];
    for (int i = 0; i < n; i++) {
      double[] ri = r[i];
      double[] ai = a[i];
      for (int k = 0; k < n; k++) {
        double aik = ai[k];
        if (aik == 0) {
          continue;
        }
        double[] bk = b[k];
        for (int j = 0; j < n; j++) {
          ri[j] += aik * bk[j];
        }
      }
    }
    return r;
  }
}
