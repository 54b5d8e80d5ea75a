package dev.rectok.torch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The same computation from many threads at once equals the serial result, bit for bit. */
class ThreadsTest {

  /** A small MLP forward + backward from fixed seeds; returns output and one gradient. */
  private static float[] compute(long seed) {
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(seed)) {
      Tensor x = Tensor.randn(g, 16, 32);
      Tensor w1 =
          Tensor.randn(g, 64, 32).mul(0.1).requiresGrad_(false).detach().requiresGrad_(true);
      Tensor w2 = Tensor.randn(g, 10, 64).mul(0.1);
      Tensor h = F.gelu(F.linear(x, w1, null), false);
      Tensor logits = F.linear(h, w2, null);
      Tensor loss =
          F.crossEntropy(
              logits, Tensor.randint(0, 10, new long[] {16}, g, DType.INT64, Device.CPU));
      loss.backward();
      float[] out = logits.detach().toFloatArray();
      float[] grad = w1.grad().toFloatArray();
      float[] all = new float[out.length + grad.length + 1];
      System.arraycopy(out, 0, all, 0, out.length);
      System.arraycopy(grad, 0, all, out.length, grad.length);
      all[all.length - 1] = (float) loss.item();
      return all;
    }
  }

  private static void runConcurrently(ExecutorService pool, int threads) throws Exception {
    float[][] serial = new float[threads][];
    for (int i = 0; i < threads; i++) {
      serial[i] = compute(100 + i % 3);
    }
    CountDownLatch start = new CountDownLatch(1);
    List<Future<float[]>> futures = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      long seed = 100 + i % 3;
      futures.add(
          pool.submit(
              () -> {
                start.await();
                float[] r = null;
                for (int k = 0; k < 20; k++) {
                  r = compute(seed);
                }
                return r;
              }));
    }
    start.countDown();
    for (int i = 0; i < threads; i++) {
      assertThat(futures.get(i).get()).as("thread %d", i).containsExactly(serial[i]);
    }
  }

  @Test
  void eightPlatformThreadsEqualSerial() throws Exception {
    try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
      runConcurrently(pool, 8);
    }
  }

  @Test
  void virtualThreadsEqualSerial() throws Exception {
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      runConcurrently(pool, 16);
    }
  }

  @Test
  void gradModeIsPerJavaThreadEvenForVirtualThreads() throws Exception {
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int i = 0; i < 32; i++) {
        boolean disable = i % 2 == 0;
        results.add(
            pool.submit(
                () -> {
                  try (GradMode g = disable ? GradMode.noGrad() : GradMode.enableGrad();
                      Scope s = Scope.open()) {
                    Tensor w = Tensor.ones(4).requiresGrad_(true);
                    boolean tracked = true;
                    for (int k = 0; k < 50; k++) {
                      Thread.yield(); // invite the scheduler to move this virtual thread
                      tracked &= w.mul(2.0).requiresGrad();
                    }
                    return tracked == !disable;
                  }
                }));
      }
      for (Future<Boolean> r : results) {
        assertThat(r.get()).isTrue();
      }
    }
  }
}
