package dev.rectok.torch.distributed;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.Torch;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.nn.Linear;
import dev.rectok.torch.nn.Parameter;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * One data-parallel step on the device of {@code -Drectok.test.device} (default cpu;
 * native/cuda-check.sh runs it on cuda:0): two ranks on threads, each with different weights and
 * data, broadcast rank 0's weights, backward, DDP-bucketed averaging; the gradients must equal the
 * average of the gradients each rank's data gives alone. Gloo on the CPU and for CUDA tensors; with
 * two or more GPUs the same step runs over NCCL (one GPU per rank; NCCL refuses two ranks on one
 * GPU), with one GPU a one-rank NCCL group checks the NCCL path.
 */
class DataParallelStepTest {
  static final Device DEVICE = Device.parse(System.getProperty("rectok.test.device", "cpu"));

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /**
   * The gradient of sum((W x + b)^2) for rank r's data, on {@code dev}, as float arrays (weight,
   * bias).
   */
  static List<float[]> step(Linear model, int r, Device dev) {
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(100 + r)) {
      Tensor x = Tensor.randn(new long[] {5, 6}, g, DType.FLOAT32, Device.CPU).to(dev);
      model.zeroGrad();
      model.forward(x).pow(2).sum().backward();
      List<float[]> out = new ArrayList<>();
      for (Parameter p : model.parameters()) {
        out.add(p.grad().to(DType.FLOAT32, Device.CPU).toFloatArray());
      }
      return out;
    }
  }

  /** Weights from a seeded generator (not the global one: ranks build theirs concurrently). */
  static Linear model(int seed, Device dev) {
    Linear l = new Linear(6, 3, true);
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(seed)) {
      for (Parameter p : l.parameters()) {
        p.copyFrom(Tensor.randn(p.shape(), g, DType.FLOAT32, Device.CPU));
      }
    }
    l.to(null, dev);
    return l;
  }

  /**
   * Runs the two-rank step with groups made by {@code groupOf(rank, store)}; returns each rank's
   * averaged gradients.
   */
  static List<List<float[]>> twoRanks(Device[] devices, boolean nccl) throws Exception {
    int port = freePort();
    List<CompletableFuture<List<float[]>>> fs = new ArrayList<>();
    for (int r = 0; r < 2; r++) {
      int rank = r;
      fs.add(
          CompletableFuture.supplyAsync(
              () -> {
                try (Store store =
                        Store.tcp("127.0.0.1", port, rank == 0, 2, Duration.ofSeconds(60));
                    ProcessGroup pg =
                        nccl
                            ? ProcessGroup.nccl(
                                store, rank, 2, devices[rank].index(), Duration.ofSeconds(60))
                            : ProcessGroup.gloo(
                                store,
                                rank,
                                2,
                                new ProcessGroup.GlooOptions(
                                    Duration.ofSeconds(60), 2, null, "127.0.0.1"));
                    Linear m = model(rank + 1, devices[rank])) {
                  DistributedContext ctx = Contexts.of(rank, 2, pg);
                  DistributedDataParallel.broadcastFromRankZero(ctx, List.of(m));
                  try (DistributedDataParallel ddp =
                      new DistributedDataParallel(ctx, m.parameters(), 16, 64)) {
                    step(m, rank, devices[rank]);
                    ddp.averageGradients();
                    List<float[]> out = new ArrayList<>();
                    for (Parameter p : m.parameters()) {
                      try (Scope s = Scope.open()) {
                        out.add(p.grad().to(DType.FLOAT32, Device.CPU).toFloatArray());
                      }
                    }
                    return out;
                  }
                }
              },
              task -> Thread.ofPlatform().start(task)));
    }
    List<List<float[]>> got = new ArrayList<>();
    for (var f : fs) {
      got.add(f.get(120, TimeUnit.SECONDS));
    }
    return got;
  }

  static void checkAverages(List<List<float[]>> got, Device dev) {
    // the reference: rank 0's weights (seed 1) on each rank's data alone, averaged
    List<float[]> g0;
    List<float[]> g1;
    try (Linear m = model(1, dev)) {
      g0 = step(m, 0, dev);
      g1 = step(m, 1, dev);
    }
    for (List<float[]> rank : got) {
      for (int k = 0; k < g0.size(); k++) {
        float[] a = rank.get(k);
        for (int i = 0; i < a.length; i++) {
          assertThat(a[i])
              .isCloseTo(
                  (g0.get(k)[i] + g1.get(k)[i]) / 2, org.assertj.core.data.Offset.offset(1e-5f));
        }
      }
    }
  }

  @Test
  void glooAveragesGradientsOnTheTestDevice() throws Exception {
    checkAverages(twoRanks(new Device[] {DEVICE, DEVICE}, false), DEVICE);
  }

  @Test
  void ncclOnEveryGpuWhenThereAreGpus() throws Exception {
    if (!DEVICE.isCuda()) {
      assertThat(Store.available()).isTrue(); // on the CPU machine: NCCL is refused with a reason
      try (Store s =
          Store.file(
              java.nio.file.Files.createTempFile("rectok-nccl", ".store"),
              1,
              Duration.ofSeconds(5))) {
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> ProcessGroup.nccl(s, 0, 1, 0, Duration.ofSeconds(5)))
            .isInstanceOf(DistributedException.class)
            .hasMessageContaining("NCCL");
      }
      return;
    }
    int gpus = Torch.cudaDeviceCount();
    if (gpus >= 2) {
      checkAverages(
          twoRanks(new Device[] {Device.parse("cuda:0"), Device.parse("cuda:1")}, true), DEVICE);
      System.out.println("NCCL: 2-rank data-parallel step on cuda:0 and cuda:1 passed");
    } else {
      try (Store s =
              Store.file(
                  java.nio.file.Files.createTempFile("rectok-nccl", ".store"),
                  1,
                  Duration.ofSeconds(30));
          ProcessGroup pg = ProcessGroup.nccl(s, 0, 1, 0, Duration.ofSeconds(30));
          Scope sc = Scope.open()) {
        Tensor t = Tensor.ones(1000).to(DEVICE);
        try (Work w = pg.allreduce(t, ReduceOp.SUM)) {
          w.await();
        }
        assertThat(t.sum().item()).isEqualTo(1000.0);
      }
      System.out.println(
          "NCCL: one GPU, so a 1-rank NCCL allreduce (NCCL refuses two ranks on one GPU)");
    }
  }
}
