package dev.rectok.torch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Misuse is reported, not crashed on: each case throws a {@link TorchException} carrying LibTorch's
 * message (or the Java layer's IllegalStateException / IllegalArgumentException where it catches
 * the mistake first), and the JVM and LibTorch keep working afterwards.
 */
class MisuseTest {
  private static long liveBefore;

  @BeforeAll
  static void countHandles() {
    liveBefore = Tensor.liveHandles();
  }

  @AfterAll
  static void nothingLeaked() {
    assertThat(Tensor.liveHandles()).isLessThanOrEqualTo(liveBefore);
  }

  /** After every case: a successful op, with the right numbers. */
  @AfterEach
  void stillWorks() {
    try (Scope s = Scope.open()) {
      Tensor a = Tensor.of(new double[] {1, 2, 3, 4}, 2, 2);
      assertThat(a.matmul(a).toDoubleArray()).containsExactly(7, 10, 15, 22);
      assertThat(GradMode.isGradEnabled()).isTrue();
    }
  }

  static void torchError(String fragment, ThrowingCallable call) {
    try (Scope s = Scope.open()) {
      assertThatThrownBy(call).isInstanceOf(TorchException.class).hasMessageContaining(fragment);
    }
  }

  /** LibTorch 1.13 and 2.x word some errors differently: any of the fragments will do. */
  static void torchErrorAny(ThrowingCallable call, String... fragments) {
    try (Scope s = Scope.open()) {
      assertThatThrownBy(call)
          .isInstanceOf(TorchException.class)
          .satisfies(e -> assertThat(fragments).anyMatch(f -> e.getMessage().contains(f)));
    }
  }

  static Tensor z(long... shape) {
    return Tensor.zeros(shape);
  }

  // ------------------------------------------------------------------ shapes

  @Test
  void matmulShapeMismatch() {
    torchError("shapes cannot be multiplied (2x3 and 4x5)", () -> z(2, 3).matmul(z(4, 5)));
    torchError(
        "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [2, 4]",
        () -> z(2, 2, 3).matmul(z(2, 4, 5)));
    torchError("batch1 must be a 3D tensor", () -> z(2, 3).bmm(z(3, 2)));
    torchError("size mismatch", () -> z(3, 2).matmul(z(3)));
    torchError(
        "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x2)",
        () -> F.linear(z(2, 3), z(2, 4), null));
  }

  @Test
  void broadcastMismatch() {
    torchError(
        "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1",
        () -> z(2, 3).add(z(4)));
    torchError("must match the size of tensor b", () -> Tensor.where(z(2).gt(0.0), z(3), z(2)));
    torchError(
        "The expanded size of the tensor (4) must match the existing size (3) at non-singleton dimension 1",
        () -> z(2, 3).expand(2, 4));
    try (Scope s = Scope.open()) {
      Tensor self = z(3);
      assertThatThrownBy(() -> self.add_(z(2, 3), 1.0))
          .isInstanceOf(TorchException.class)
          .hasMessageContaining("doesn't match the broadcast shape");
      assertThat(self.toFloatArray()).containsExactly(0, 0, 0); // untouched
    }
  }

  @Test
  void wrongDtypes() {
    torchErrorAny(
        () -> z(2, 3).matmul(Tensor.zeros(new long[] {3, 2}, DType.INT64, Device.CPU)),
        "expected scalar type",
        "to have the same dtype");
    torchError(
        "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int",
        () -> F.embedding(z(5, 2), Tensor.of(new float[] {0, 1})));
    torchError(
        "expected scalar type Long but found Float",
        () -> F.crossEntropy(z(3, 4), Tensor.of(new float[] {0, 1, 2})));
    torchError(
        "gather(): Expected dtype int64 for index",
        () -> z(2, 3).gather(1, Tensor.of(new int[] {0, 1}, 2, 1)));
    torchError(
        "Only Tensors of floating point and complex dtype can require gradients",
        () -> Tensor.arange(3).requiresGrad_(true));
  }

  @Test
  void conv2dMisuse() {
    long[] one = {1, 1};
    long[] zero = {0, 0};
    torchError(
        "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [5, 5]",
        () -> F.conv2d(z(5, 5), z(4, 3, 3, 3), null, one, zero, one, 1));
    torchError(
        "expected input[1, 2, 5, 5] to have 3 channels, but got 2 channels instead",
        () -> F.conv2d(z(1, 2, 5, 5), z(4, 3, 3, 3), null, one, zero, one, 1));
    torchError(
        "Kernel size can't be greater than actual input size",
        () -> F.conv2d(z(1, 3, 2, 2), z(4, 3, 3, 3), null, one, zero, one, 1));
  }

  @Test
  void normalizationShapeMismatch() {
    torchError(
        "Given normalized_shape=[5], expected input with shape [*, 5], but got input of size[2, 4]",
        () -> F.layerNorm(z(2, 4), new long[] {5}, null, null, 1e-5));
    torchError(
        "normalized_shape does not match", () -> F.rmsNorm(z(2, 4), new long[] {5}, null, 1e-5));
    torchError(
        "Expected number of channels in input to be divisible by num_groups",
        () -> F.groupNorm(z(2, 4, 3), 3, null, null, 1e-5));
  }

  @Test
  void reshapeAndViewMisuse() {
    torchError("shape '[4, 4]' is invalid for input of size 6", () -> z(2, 3).reshape(4, 4));
    torchError(
        "view size is not compatible with input tensor's size and stride",
        () -> z(2, 3).transpose(0, 1).view(6));
    torchError(
        "number of dimensions in the tensor input does not match the length of the desired ordering of "
            + "dimensions i.e. input.dim() = 2 is not equal to len(dims) = 1",
        () -> z(2, 3).permute(0));
    torchError(
        "split_with_sizes expects split_sizes to sum exactly to 5",
        () -> z(5).split(new long[] {2, 2}, 0));
    torchError(
        "pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor",
        () -> z(1, 3, 2, 2).pixelShuffle(2));
  }

  @Test
  void indicesOutOfRange() {
    torchError(
        "select(): index 5 out of range for tensor of size [3, 4] at dimension 0",
        () -> z(3, 4).select(0, 5));
    torchError("start (2) + length (5) exceeds dimension size (3)", () -> z(3, 4).narrow(0, 2, 5));
    torchError("slice step must be positive", () -> z(3, 4).slice(0, 0, 3, 0));
    torchError(
        "index out of range in self", () -> z(3, 4).indexSelect(0, Tensor.of(new long[] {3})));
    torchError("index out of range in self", () -> F.embedding(z(5, 2), Tensor.of(new long[] {5})));
    torchError(
        "index 7 is out of bounds for dimension 1 with size 3",
        () -> z(2, 3).gather(1, Tensor.of(new long[] {7, 0}, 2, 1)));
  }

  @Test
  void dimOutOfRange() {
    torchError(
        "Dimension out of range (expected to be in range of [-2, 1], but got 2)",
        () -> z(2, 3).sum(new long[] {2}, false));
    torchError(
        "Dimension out of range (expected to be in range of [-2, 1], but got -3)",
        () -> F.softmax(z(2, 3), -3));
    torchError(
        "Dimension out of range (expected to be in range of [-2, 1], but got 2)",
        () -> Tensor.cat(new Tensor[] {z(2, 3), z(2, 3)}, 2));
    torchError("Dimension out of range", () -> z(3, 4).slice(2, 0, 1, 1));
    torchError("Dimension out of range", () -> z(3, 4).transpose(0, 2));
    try (Scope s = Scope.open()) {
      Tensor t = z(2, 3);
      assertThatThrownBy(() -> t.size(2))
          .isInstanceOf(IndexOutOfBoundsException.class)
          .hasMessageContaining("Dimension out of range");
      Tensor scalar = Tensor.scalar(1);
      assertThatThrownBy(() -> scalar.size(0))
          .isInstanceOf(IndexOutOfBoundsException.class)
          .hasMessageContaining("dimension specified as 0 but tensor has no dimensions");
      assertThatThrownBy(() -> scalar.chunk(2, -1))
          .isInstanceOf(IndexOutOfBoundsException.class)
          .hasMessageContaining("tensor has no dimensions");
    }
  }

  @Test
  void catAndStackOfMismatchedShapes() {
    torchError(
        "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4 for tensor number 1",
        () -> Tensor.cat(new Tensor[] {z(2, 3), z(2, 4)}, 0));
    torchError(
        "stack expects each tensor to be equal size",
        () -> Tensor.stack(new Tensor[] {z(2, 3), z(3, 2)}, 0));
    torchError("expected a non-empty list of Tensors", () -> Tensor.cat(new Tensor[0], 0));
  }

  // ------------------------------------------------------------------ autograd

  @Test
  void backwardMisuse() {
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad_(true);
      Tensor y = x.mul(x);
      assertThatThrownBy(y::backward)
          .isInstanceOf(TorchException.class)
          .hasMessageContaining("grad can be implicitly created only for scalar outputs");
      assertThatThrownBy(() -> Tensor.of(new double[] {1}).sum().backward())
          .isInstanceOf(TorchException.class)
          .hasMessageContaining("does not require grad");
      Tensor loss = y.sum();
      loss.backward();
      assertThatThrownBy(loss::backward)
          .isInstanceOf(TorchException.class)
          .hasMessageContaining("Trying to backward through the graph a second time");
      assertThatThrownBy(() -> y.requiresGrad_(false))
          .isInstanceOf(TorchException.class)
          .hasMessageContaining("you can only change requires_grad flags of leaf variables");
      assertThatThrownBy(() -> x.setGrad(Tensor.of(new double[] {1, 2, 3})))
          .isInstanceOf(TorchException.class)
          .hasMessageContaining("differs from the tensor's");
      assertThatThrownBy(() -> y.backward(Tensor.of(new double[] {1, 2, 3}), false))
          .isInstanceOf(TorchException.class)
          .hasMessageContaining(
              "invalid gradient at index 0 - got [3] but expected shape compatible with [2]");
      // the leaf's gradient is intact after all that
      assertThat(x.grad().toDoubleArray()).containsExactly(2, 4);
    }
  }

  @Test
  void inPlaceOnALeafThatRequiresGrad() {
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad_(true);
      assertThatThrownBy(() -> x.add_(1.0))
          .isInstanceOf(TorchException.class)
          .hasMessageContaining(
              "a leaf Variable that requires grad is being used in an in-place operation");
      try (GradMode g = GradMode.noGrad()) {
        x.add_(1.0); // allowed without autograd, as in an optimizer step
      }
      assertThat(x.toDoubleArray()).containsExactly(2, 3);
    }
  }

  // ------------------------------------------------------------------ ownership

  @Test
  void useAfterClose() {
    Tensor t = Tensor.of(new float[] {1, 2});
    t.close();
    t.close(); // idempotent
    assertThat(t.isClosed()).isTrue();
    assertThat(t.toString()).contains("closed");
    assertThatThrownBy(t::toFloatArray)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already closed");
    try (Tensor o = Tensor.of(new float[] {1, 2})) {
      assertThatThrownBy(() -> o.add(t))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("already closed");
      assertThatThrownBy(() -> Tensor.cat(new Tensor[] {o, t}, 0))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("already closed");
    }
    TorchGenerator g = TorchGenerator.cpu(1);
    g.close();
    assertThatThrownBy(() -> Tensor.randn(g, 2))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("generator already closed");
  }

  @Test
  void useAfterTheOwningScopeClosed() {
    Tensor inner;
    Tensor kept;
    try (Scope s = Scope.open()) {
      inner = Tensor.ones(2);
      kept = s.keep(Tensor.ones(3));
      assertThat(s.size()).isEqualTo(1);
    }
    assertThat(inner.isClosed()).isTrue();
    assertThatThrownBy(() -> inner.mul(2.0))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already closed");
    try (Tensor sum = kept.sum()) { // no scope open: the caller owns both
      assertThat(sum.item()).isEqualTo(3.0);
    } finally {
      kept.close();
    }
    Scope closed = Scope.open();
    closed.close();
    try (Tensor t = Tensor.ones(1)) {
      assertThatThrownBy(() -> closed.keep(t))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("scope already closed");
    }
    try (Scope a = Scope.open()) {
      Tensor foreign;
      try (Scope b = Scope.open()) {
        foreign = b.keep(Tensor.ones(1)); // moves to a
        assertThatThrownBy(() -> b.keep(foreign))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("does not belong to this scope");
      }
      assertThat(foreign.isClosed()).isFalse();
    }
  }

  @Test
  void scopeClosedFromAnotherThreadOrOutOfOrder() throws Exception {
    Scope outer = Scope.open();
    Scope inner = Scope.open();
    try {
      AtomicReference<Throwable> error = new AtomicReference<>();
      Thread t =
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      inner.close();
                    } catch (Throwable e) {
                      error.set(e);
                    }
                  });
      t.join();
      assertThat(error.get())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("confined to the thread that opened it");
      assertThatThrownBy(outer::close)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("innermost first");
      // still usable: a tensor made now belongs to the inner scope
      Tensor made = Tensor.ones(1);
      assertThat(inner.size()).isEqualTo(1);
      inner.close();
      assertThat(made.isClosed()).isTrue();
    } finally {
      inner.close();
      outer.close();
    }
  }

  // ------------------------------------------------------------------ devices, storage, arguments

  @Test
  void cudaDeviceThatDoesNotExist() {
    if (!Torch.cudaIsAvailable()) {
      // this CPU-only build: every CUDA request is refused with a message that says so
      assertThat(Torch.cudaDeviceCount()).isZero();
      torchError("CUDA", () -> Tensor.zeros(new long[] {2}, DType.FLOAT32, Device.cuda(0)));
      torchError("CUDA", () -> z(2).to(Device.cuda(0)));
      torchError("CUDA", () -> Tensor.fromHost(z(2).toHost(Arena.ofAuto()), Device.cuda(0)));
      torchError("CUDA", () -> TorchGenerator.create(Device.cuda(0), 1));
      torchError("CUDA", () -> Torch.cudaSynchronize(0));
    } else {
      // a CUDA build: an ordinal past the last device
      Device missing = Device.cuda(Torch.cudaDeviceCount());
      try (Scope s = Scope.open()) {
        assertThatThrownBy(() -> Tensor.zeros(new long[] {2}, DType.FLOAT32, missing))
            .isInstanceOf(TorchException.class)
            .hasMessageMatching("(?is).*(cuda|device).*");
      }
    }
  }

  @Test
  void fromStorageViewOutOfBounds() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment storage = arena.allocate(16); // four floats
      torchError(
          "out of bounds for storage of size",
          () -> Tensor.fromStorage(storage, DType.FLOAT32, new long[] {10}, new long[] {1}, 0));
      torchError(
          "out of bounds for storage of size",
          () ->
              Tensor.fromStorage(storage, DType.FLOAT32, new long[] {2, 2}, new long[] {2, 1}, 1));
      torchError(
          "not a multiple of the element size",
          () ->
              Tensor.fromStorage(
                  storage.asSlice(0, 6), DType.FLOAT32, new long[] {1}, new long[] {1}, 0));
      // LibTorch's own bounds check overflows on these and then reads outside the storage (a JVM
      // crash)
      torchError(
          "out of bounds for storage of size 4 elements",
          () ->
              Tensor.fromStorage(
                  storage, DType.FLOAT32, new long[] {1}, new long[] {1}, Long.MAX_VALUE / 2));
      torchError(
          "reaches element 2305843009213693954, out of bounds for storage of size 4 elements",
          () ->
              Tensor.fromStorage(
                  storage, DType.FLOAT32, new long[] {2}, new long[] {2305843009213693950L}, 4));
      torchError(
          "overflows",
          () ->
              Tensor.fromStorage(
                  storage,
                  DType.FLOAT32,
                  new long[] {3, 2},
                  new long[] {Long.MAX_VALUE / 2 + 1, 1},
                  0));
      torchError(
          "negative storage offset",
          () -> Tensor.fromStorage(storage, DType.FLOAT32, new long[] {1}, new long[] {1}, -1));
      torchError(
          "negative stride",
          () -> Tensor.fromStorage(storage, DType.FLOAT32, new long[] {2}, new long[] {-1}, 1));
      torchError(
          "reaches element 4, out of bounds",
          () ->
              Tensor.fromStorage(storage, DType.FLOAT32, new long[] {2, 2}, new long[] {1, 2}, 1));
      assertThatThrownBy(
              () ->
                  Tensor.fromStorage(storage, DType.FLOAT32, new long[] {2}, new long[] {1, 1}, 0))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("differ in length");
      try (Tensor ok =
          Tensor.fromStorage(storage, DType.FLOAT32, new long[] {2, 2}, new long[] {2, 1}, 0)) {
        assertThat(ok.toFloatArray()).containsExactly(0, 0, 0, 0);
      }
    }
  }

  @Test
  void javaSideArgumentChecks() {
    assertThatThrownBy(() -> Tensor.of(new float[] {1, 2, 3, 4, 5}, 2, 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("shape [2, 3] needs 6 elements, data has 5");
    assertThatThrownBy(() -> Tensor.of(new byte[] {1}, DType.FLOAT32))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("one-byte dtype");
    try (Scope s = Scope.open()) {
      Tensor t = z(4);
      assertThatThrownBy(() -> t.chunk(0, 0))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("chunk expects chunks to be greater than 0");
      assertThatThrownBy(() -> t.split(0L, 0))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("split size must be positive");
      assertThatThrownBy(t::toByteArray)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("one-byte dtype");
    }
    assertThatThrownBy(() -> Device.parse("gpu"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("invalid device 'gpu'");
    assertThatThrownBy(() -> DType.parse("float8"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown dtype 'float8'");
    assertThatThrownBy(() -> new Device(Device.Type.CPU, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cpu has no device index 1");
  }

  @Test
  void interpolateNeeds4d() {
    torchError(
        "interpolate expects a 4-D (N, C, H, W) input, got 3-D",
        () -> F.interpolate(z(1, 4, 4), 8, 8, F.Interpolation.BILINEAR, false, false));
    torchError(
        "nearest interpolation takes neither antialias nor align_corners",
        () -> F.interpolate(z(1, 1, 4, 4), 8, 8, F.Interpolation.NEAREST, true, false));
  }

  @Test
  void randomArgumentsOutOfRange() {
    try (TorchGenerator g = TorchGenerator.cpu(0)) {
      torchError(
          "random_ expects 'from' to be less than 'to', but got from=5 >= to=5",
          () -> Tensor.randint(5, 5, new long[] {2}, g, DType.INT64, Device.CPU));
      torchError(
          "Trying to create tensor with negative dimension -1",
          () -> Tensor.randperm(-1, g, Device.CPU));
    }
  }

  @Test
  void itemOfAMultiElementTensor() {
    torchError("a Tensor with 6 elements cannot be converted to Scalar", () -> z(2, 3).item());
    torchError("a Tensor with 0 elements cannot be converted to Scalar", () -> z(0).itemLong());
  }

  // ------------------------------------------------------------------ error reporting itself

  @Test
  void errorMessagesDoNotLeakIntoLaterCalls() {
    try (Scope s = Scope.open()) {
      Tensor a = z(2, 3);
      // a long message first, then a short one: nothing of the first may remain
      assertThatThrownBy(() -> F.layerNorm(a, new long[] {123456789}, null, null, 1e-5))
          .hasMessageContaining("123456789");
      Throwable shortOne = org.assertj.core.api.Assertions.catchThrowable(() -> a.reshape(7));
      assertThat(shortOne)
          .isInstanceOf(TorchException.class)
          .hasMessageContaining("shape '[7]' is invalid")
          .hasMessageNotContaining("123456789")
          .hasMessageNotContaining("normalized_shape");
      // LibTorch 1.13 throws this one as a plain std::runtime_error: RT_ERR_STD
      assertThat(((TorchException) shortOne).status()).isEqualTo(2);
      Throwable c10 = org.assertj.core.api.Assertions.catchThrowable(() -> a.matmul(a));
      assertThat(c10).hasMessage("mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)");
      assertThat(((TorchException) c10).status())
          .isEqualTo(1); // RT_ERR_TORCH: a c10::Error, without backtrace
      Throwable shim =
          org.assertj.core.api.Assertions.catchThrowable(
              () -> F.interpolate(z(1, 4, 4), 8, 8, F.Interpolation.BILINEAR, false, false));
      assertThat(((TorchException) shim).status())
          .isEqualTo(4); // RT_ERR_ARG: found by the shim itself
      assertThat(shortOne.getMessage())
          .doesNotContain("Exception raised from")
          .doesNotContain("frame #");
    }
  }

  @Test
  void concurrentErrorsKeepTheirOwnMessages() throws Exception {
    int n = 24;
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<String>> fs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int size = 7 + i;
        fs.add(
            pool.submit(
                () -> {
                  try (Scope s = Scope.open()) {
                    Tensor t = Tensor.zeros(2, 3);
                    for (int k = 0; k < 50; k++) {
                      try {
                        t.reshape(size);
                        return "no error";
                      } catch (TorchException e) {
                        if (!e.getMessage()
                            .contains("shape '[" + size + "]' is invalid for input of size 6")) {
                          return e.getMessage();
                        }
                      }
                    }
                    return "ok";
                  }
                }));
      }
      for (Future<String> f : fs) {
        assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo("ok");
      }
    }
  }
}
