package dev.rectok.models.inception;

import dev.rectok.torch.F;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.UnaryModule;

/**
 * The mixed blocks of torch-fidelity's TF-compatible InceptionV3 (see {@code docs/evaluation.md}):
 * A, C and E_1 pool with a 3×3/1/1 average that does not count the padding (as TensorFlow), E_2
 * with a 3×3/1/1 max pool, B and D with a 3×3/2 max pool. Attribute names are torch-fidelity's, so
 * the state-dict keys match its weight file. Ownership and threading as for every {@link
 * dev.rectok.torch.nn.Module}.
 */
final class InceptionBlocks {
  private InceptionBlocks() {}

  private static final long[] K3 = {3, 3};
  private static final long[] S1 = {1, 1};
  private static final long[] S2 = {2, 2};
  private static final long[] P1 = {1, 1};
  private static final long[] P0 = {0, 0};

  static Tensor avgPoolTf(Tensor x) {
    return F.avgPool2d(x, K3, S1, P1, false, false);
  }

  static Tensor maxPool3s2(Tensor x) {
    return F.maxPool2d(x, K3, S2, P0, false);
  }

  /** InceptionA. */
  static final class A extends UnaryModule {
    private final BasicConv2d b1, b5_1, b5_2, d1, d2, d3, pool;

    A(long in, long poolFeatures) {
      b1 = registerModule("branch1x1", new BasicConv2d(in, 64, 1));
      b5_1 = registerModule("branch5x5_1", new BasicConv2d(in, 48, 1));
      b5_2 = registerModule("branch5x5_2", new BasicConv2d(48, 64, 5, 5, 1, 2, 2));
      d1 = registerModule("branch3x3dbl_1", new BasicConv2d(in, 64, 1));
      d2 = registerModule("branch3x3dbl_2", new BasicConv2d(64, 96, 3, 3, 1, 1, 1));
      d3 = registerModule("branch3x3dbl_3", new BasicConv2d(96, 96, 3, 3, 1, 1, 1));
      pool = registerModule("branch_pool", new BasicConv2d(in, poolFeatures, 1));
    }

    @Override
    public Tensor forward(Tensor x) {
      try (Scope s = Scope.open()) {
        return s.keep(
            Tensor.cat(
                new Tensor[] {
                  b1.forward(x),
                  b5_2.forward(b5_1.forward(x)),
                  d3.forward(d2.forward(d1.forward(x))),
                  pool.forward(avgPoolTf(x))
                },
                1));
      }
    }
  }

  /** InceptionB (grid reduction 35 → 17). */
  static final class B extends UnaryModule {
    private final BasicConv2d b3, d1, d2, d3;

    B(long in) {
      b3 = registerModule("branch3x3", new BasicConv2d(in, 384, 3, 3, 2, 0, 0));
      d1 = registerModule("branch3x3dbl_1", new BasicConv2d(in, 64, 1));
      d2 = registerModule("branch3x3dbl_2", new BasicConv2d(64, 96, 3, 3, 1, 1, 1));
      d3 = registerModule("branch3x3dbl_3", new BasicConv2d(96, 96, 3, 3, 2, 0, 0));
    }

    @Override
    public Tensor forward(Tensor x) {
      try (Scope s = Scope.open()) {
        return s.keep(
            Tensor.cat(
                new Tensor[] {b3.forward(x), d3.forward(d2.forward(d1.forward(x))), maxPool3s2(x)},
                1));
      }
    }
  }

  /** InceptionC (factorised 7×7). */
  static final class C extends UnaryModule {
    private final BasicConv2d b1, s1, s2, s3, d1, d2, d3, d4, d5, pool;

    C(long in, long c7) {
      b1 = registerModule("branch1x1", new BasicConv2d(in, 192, 1));
      s1 = registerModule("branch7x7_1", new BasicConv2d(in, c7, 1));
      s2 = registerModule("branch7x7_2", new BasicConv2d(c7, c7, 1, 7, 1, 0, 3));
      s3 = registerModule("branch7x7_3", new BasicConv2d(c7, 192, 7, 1, 1, 3, 0));
      d1 = registerModule("branch7x7dbl_1", new BasicConv2d(in, c7, 1));
      d2 = registerModule("branch7x7dbl_2", new BasicConv2d(c7, c7, 7, 1, 1, 3, 0));
      d3 = registerModule("branch7x7dbl_3", new BasicConv2d(c7, c7, 1, 7, 1, 0, 3));
      d4 = registerModule("branch7x7dbl_4", new BasicConv2d(c7, c7, 7, 1, 1, 3, 0));
      d5 = registerModule("branch7x7dbl_5", new BasicConv2d(c7, 192, 1, 7, 1, 0, 3));
      pool = registerModule("branch_pool", new BasicConv2d(in, 192, 1));
    }

    /** The {@code branch1x1} output alone (conv, BatchNorm, ReLU): TF's {@code mixed_N/conv}. */
    Tensor branch1x1(Tensor x) {
      return b1.forward(x);
    }

    @Override
    public Tensor forward(Tensor x) {
      try (Scope s = Scope.open()) {
        Tensor dbl = d5.forward(d4.forward(d3.forward(d2.forward(d1.forward(x)))));
        return s.keep(
            Tensor.cat(
                new Tensor[] {
                  b1.forward(x),
                  s3.forward(s2.forward(s1.forward(x))),
                  dbl,
                  pool.forward(avgPoolTf(x))
                },
                1));
      }
    }
  }

  /** InceptionD (grid reduction 17 → 8). */
  static final class D extends UnaryModule {
    private final BasicConv2d a1, a2, b1, b2, b3, b4;

    D(long in) {
      a1 = registerModule("branch3x3_1", new BasicConv2d(in, 192, 1));
      a2 = registerModule("branch3x3_2", new BasicConv2d(192, 320, 3, 3, 2, 0, 0));
      b1 = registerModule("branch7x7x3_1", new BasicConv2d(in, 192, 1));
      b2 = registerModule("branch7x7x3_2", new BasicConv2d(192, 192, 1, 7, 1, 0, 3));
      b3 = registerModule("branch7x7x3_3", new BasicConv2d(192, 192, 7, 1, 1, 3, 0));
      b4 = registerModule("branch7x7x3_4", new BasicConv2d(192, 192, 3, 3, 2, 0, 0));
    }

    @Override
    public Tensor forward(Tensor x) {
      try (Scope s = Scope.open()) {
        return s.keep(
            Tensor.cat(
                new Tensor[] {
                  a2.forward(a1.forward(x)),
                  b4.forward(b3.forward(b2.forward(b1.forward(x)))),
                  maxPool3s2(x)
                },
                1));
      }
    }
  }

  /** InceptionE_1 ({@code maxPool == false}) and InceptionE_2 ({@code maxPool == true}). */
  static final class E extends UnaryModule {
    private final boolean maxPool;
    private final BasicConv2d b1, a1, a2a, a2b, d1, d2, d3a, d3b, pool;

    E(long in, boolean maxPool) {
      this.maxPool = maxPool;
      b1 = registerModule("branch1x1", new BasicConv2d(in, 320, 1));
      a1 = registerModule("branch3x3_1", new BasicConv2d(in, 384, 1));
      a2a = registerModule("branch3x3_2a", new BasicConv2d(384, 384, 1, 3, 1, 0, 1));
      a2b = registerModule("branch3x3_2b", new BasicConv2d(384, 384, 3, 1, 1, 1, 0));
      d1 = registerModule("branch3x3dbl_1", new BasicConv2d(in, 448, 1));
      d2 = registerModule("branch3x3dbl_2", new BasicConv2d(448, 384, 3, 3, 1, 1, 1));
      d3a = registerModule("branch3x3dbl_3a", new BasicConv2d(384, 384, 1, 3, 1, 0, 1));
      d3b = registerModule("branch3x3dbl_3b", new BasicConv2d(384, 384, 3, 1, 1, 1, 0));
      pool = registerModule("branch_pool", new BasicConv2d(in, 192, 1));
    }

    @Override
    public Tensor forward(Tensor x) {
      try (Scope s = Scope.open()) {
        Tensor a = a1.forward(x);
        Tensor d = d2.forward(d1.forward(x));
        // TensorFlow's graph max-pools in the last block (torch-fidelity keeps that quirk)
        Tensor p = maxPool ? F.maxPool2d(x, K3, S1, P1, false) : avgPoolTf(x);
        return s.keep(
            Tensor.cat(
                new Tensor[] {
                  b1.forward(x),
                  a2a.forward(a),
                  a2b.forward(a),
                  d3a.forward(d),
                  d3b.forward(d),
                  pool.forward(p)
                },
                1));
      }
    }
  }
}
