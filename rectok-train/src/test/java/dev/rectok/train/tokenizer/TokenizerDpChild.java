package dev.rectok.train.tokenizer;

import dev.rectok.api.Device;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.train.distributed.DataParallel;
import dev.rectok.train.distributed.Forks;
import dev.rectok.train.loop.Batch;
import dev.rectok.train.loss.ModuleTeacher;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * One rank of the tokenizer's data-parallel check (also the one-process reference): steps the tiny
 * stage-1 trainer on global batches, each rank on its rows; rank 0 dumps the weights. Args: out
 * steps localBatch.
 */
public final class TokenizerDpChild {
  private TokenizerDpChild() {}

  public static void main(String[] args) throws Exception {
    Forks.childMain(args, TokenizerDpChild::run);
  }

  /** Trains {@code steps} steps with global batches of {@code localBatch × W}; rank 0 dumps. */
  static void run(Path out, int steps, int localBatch) throws Exception {
    int world = DataParallel.worldSize();
    int global = localBatch * world;
    // no GAN: its BatchNorm statistics are per rank (as DDP without SyncBatchNorm)
    TokenizerTrainingConfig cfg = TinyTokenizer.stage1().discriminatorStartEpoch(1000).build();
    try (ModuleTeacher teacher = TinyTokenizer.teacher(3);
        TokenizerTrainer t =
            TokenizerTrainer.stage1(cfg, TinyTokenizer.modelConfig(), teacher, null, Device.CPU)) {
      for (int k = 0; k < steps; k++) {
        try (Scope s = Scope.open()) {
          Tensor images = DataParallel.rows(TinyTokenizer.images(global, 100 + k));
          long[] idx = new long[localBatch];
          for (int j = 0; j < localBatch; j++) {
            idx[j] = DataParallel.current().rank() + (long) j * world;
          }
          Batch b =
              new Batch(
                  images,
                  Tensor.zeros(new long[] {localBatch}, dev.rectok.api.DType.INT64, Device.CPU),
                  idx,
                  0,
                  k);
          t.step(b, 0.01 * k);
        }
        if (k == 0 && DataParallel.isMain()) { // the first step's averaged (clipped) gradients
          try (OutputStream o = Files.newOutputStream(Path.of(out + ".grad"))) {
            Forks.write(Forks.collectGrads(List.of(t.model())), o);
          }
        }
      }
      if (DataParallel.isMain()) {
        try (OutputStream o = Files.newOutputStream(out)) {
          Forks.dump(List.of(t.model(), t.emaModel()), o);
        }
      }
    }
  }
}
