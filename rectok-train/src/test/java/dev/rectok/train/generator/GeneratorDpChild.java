package dev.rectok.train.generator;

import dev.rectok.api.Device;
import dev.rectok.torch.Scope;
import dev.rectok.train.distributed.DataParallel;
import dev.rectok.train.distributed.Forks;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * One rank of the generator's data-parallel check (also the one-process reference): the tiny DiT^DH
 * on fixed latents with label dropout, global batches, each rank on its rows; rank 0 dumps the
 * first step's gradients and the final weights. Args: out steps localBatch.
 */
public final class GeneratorDpChild {
  private GeneratorDpChild() {}

  public static void main(String[] args) throws Exception {
    Forks.childMain(args, GeneratorDpChild::run);
  }

  /** Trains {@code steps} steps with global batches of {@code localBatch × W}; rank 0 dumps. */
  static void run(Path out, int steps, int localBatch) throws Exception {
    int world = DataParallel.worldSize();
    int rank = DataParallel.current().rank();
    int global = localBatch * world;
    GeneratorTrainingConfig cfg = TinyGen.config().labelDropProb(0.3).build();
    try (TinyGen.FixedLatents data = new TinyGen.FixedLatents(64, 1);
        GeneratorTrainer t = new GeneratorTrainer(cfg, data, Device.CPU)) {
      for (int k = 0; k < steps; k++) {
        long[] idx = new long[localBatch];
        long[] lab = new long[localBatch];
        for (int j = 0; j < localBatch; j++) {
          idx[j] = ((long) k * global + rank + (long) j * world) % 64;
          lab[j] = idx[j] % 10;
        }
        try (Scope s = Scope.open()) {
          t.step(TinyGen.batch(idx, lab, 0), 0.1 * k);
        }
        if (k == 0 && DataParallel.isMain()) {
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
