package dev.rectok.torch;

import dev.rectok.torch.internal.CallFrame;
import dev.rectok.torch.internal.Shim;

/**
 * {@code torch.linalg} functions the evaluation needs: the symmetric eigen-decomposition (LAPACK
 * {@code syevd} through ATen), used for FID's {@code tr √(Σ₁Σ₂)} on 2048×2048 covariances in
 * float64. Stateless and thread-safe; results are owned by the caller (or the current scope).
 */
public final class Linalg {
  private Linalg() {}

  /**
   * {@code torch.linalg.eigh(a)} of a symmetric matrix (its lower triangle is read): eigenvalues
   * ascending and the matching eigenvectors as columns.
   *
   * @return {eigenvalues (n), eigenvectors (n, n)}
   */
  public static Tensor[] eigh(Tensor a) {
    CallFrame f = CallFrame.get();
    try {
      Call.check(
          (int) Shim.rt_linalg_eigh.MH.invokeExact(f.ctx, a.handle(), f.outSlot(0), f.outSlot(1)),
          f);
    } catch (Throwable t) {
      throw Call.rethrow(t);
    } finally {
      java.lang.ref.Reference.reachabilityFence(a);
    }
    return new Tensor[] {Tensor.adopt(f.outHandle(0)), Tensor.adopt(f.outHandle(1))};
  }

  /** {@code torch.linalg.eigvalsh(a)}: eigenvalues of a symmetric matrix, ascending. */
  public static Tensor eigvalsh(Tensor a) {
    return Ops.linalgEigvalsh(a);
  }
}
