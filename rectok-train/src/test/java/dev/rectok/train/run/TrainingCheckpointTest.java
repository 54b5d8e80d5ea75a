package dev.rectok.train.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.io.CheckpointFormatException;
import dev.rectok.torch.io.HostTensor;
import dev.rectok.torch.io.SafeTensors;
import dev.rectok.torch.nn.BatchNorm2d;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Round trips of every piece of a training checkpoint, validation, and resume equivalence. */
class TrainingCheckpointTest {
  private static final TinyConfig CONFIG = new TinyConfig(42, 8, 0.01, "tiny");

  @Test
  void resumedRunContinuesBitIdentically(@TempDir Path tmp) throws IOException {
    try (TinyRun straight = new TinyRun(CONFIG)) {
      for (int i = 0; i < 20; i++) {
        straight.step();
      }
      Path file = tmp.resolve("ckpt.safetensors");
      try (TinyRun first = new TinyRun(CONFIG)) {
        for (int i = 0; i < 10; i++) {
          first.step();
        }
        first.checkpoint.write(file, first.counters());
      }
      try (TinyRun resumed = new TinyRun(CONFIG)) {
        TrainingCheckpoint.Counters c = resumed.checkpoint.read(file);
        assertThat(c.step()).isEqualTo(10);
        assertThat(c.epoch()).isEqualTo(2);
        assertThat(c.dataPosition()).containsExactly(2, 2);
        resumed.restored(c);
        for (int i = 10; i < 20; i++) {
          resumed.step();
        }
        resumed.assertIdenticalTo(straight);
      }
    }
  }

  @Test
  void everyPieceRoundTrips(@TempDir Path tmp) throws IOException {
    Path file = tmp.resolve("c.safetensors");
    try (TinyRun a = new TinyRun(CONFIG);
        BatchNorm2d bnA = new BatchNorm2d(3);
        BatchNorm2d bnB = new BatchNorm2d(3);
        TinyRun b = new TinyRun(new TinyConfig(99, 8, 0.01, "other seed"))) {
      for (int i = 0; i < 3; i++) {
        a.step();
      }
      try (Scope s = Scope.open();
          TorchGenerator g = TorchGenerator.cpu(5)) {
        bnA.forward(Tensor.randn(g, 4, 3, 2, 2)); // running statistics and num_batches_tracked move
      }
      a.checkpoint.module("bn", bnA);
      b.checkpoint.module("bn", bnB);
      var extras = TrainingCheckpoint.JSON.createObjectNode().put("best_psnr", 31.5);
      extras.putArray("history").add(1).add("two");
      TrainingCheckpoint.Counters written =
          new TrainingCheckpoint.Counters(3, 7, new long[] {7, 123, -1}, extras);
      a.checkpoint.write(file, written);
      TrainingCheckpoint.Counters read = b.checkpoint.read(file);
      assertThat(read).isEqualTo(written);
      assertThat(TrainingCheckpoint.peek(file)).isEqualTo(written);
      b.step = 3;
      b.lastLoss = a.lastLoss;
      b.assertIdenticalTo(a);
      Map<String, Tensor> sb = bnB.stateDict();
      assertThat(sb).containsKeys("running_mean", "running_var", "num_batches_tracked");
      bnA.stateDict().forEach((k, v) -> assertThat(v.equal(sb.get(k))).as(k).isTrue());
      assertThat(sb.get("num_batches_tracked").itemLong()).isEqualTo(1);
    }
  }

  @Test
  void refusesForeignTruncatedCorruptedAndMismatchedFiles(@TempDir Path tmp) throws IOException {
    Path file = tmp.resolve("c.safetensors");
    try (TinyRun a = new TinyRun(CONFIG)) {
      a.step();
      a.checkpoint.write(file, a.counters());
      byte[] bytes = Files.readAllBytes(file);

      Path foreign = tmp.resolve("foreign.safetensors");
      try (Arena arena = Arena.ofConfined();
          Scope s = Scope.open()) {
        HostTensor t = Tensor.ones(2, 2).toHost(arena);
        SafeTensors.write(foreign, Map.of("weight", t), Map.of("format", "pt"));
      }
      assertThatThrownBy(() -> a.checkpoint.read(foreign))
          .isInstanceOf(CheckpointFormatException.class)
          .hasMessageContaining("not a RecTok training checkpoint");

      Path truncated = tmp.resolve("truncated.safetensors");
      Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length - 7));
      assertThatThrownBy(() -> a.checkpoint.read(truncated))
          .isInstanceOf(CheckpointFormatException.class);

      Path flipped = tmp.resolve("flipped.safetensors");
      byte[] copy = bytes.clone();
      copy[copy.length - 20] ^= 0x10;
      Files.write(flipped, copy);
      assertThatThrownBy(() -> TrainingCheckpoint.peek(flipped))
          .isInstanceOf(CheckpointFormatException.class)
          .hasMessageContaining("checksum mismatch");

      try (TinyRun b = new TinyRun(CONFIG);
          TorchGenerator extra = TorchGenerator.cpu(1)) {
        b.checkpoint.generator("augment", extra);
        assertThatThrownBy(() -> b.checkpoint.read(file))
            .isInstanceOf(CheckpointFormatException.class)
            .hasMessageContaining(
                "generators [data, noise] but [augment, data, noise] are registered");
      }
      try (BatchNorm2d wrong = new BatchNorm2d(3)) {
        TrainingCheckpoint other = new TrainingCheckpoint().module("model", wrong);
        assertThatThrownBy(() -> other.read(file))
            .isInstanceOf(CheckpointFormatException.class)
            .hasMessageContaining("modules [critic, ema, model] but [model] are registered");
        TrainingCheckpoint misfit =
            new TrainingCheckpoint()
                .module("model", wrong)
                .module("ema", wrong)
                .module("critic", wrong)
                .optimizer("opt", a.opt)
                .optimizer("critic_opt", a.criticOpt)
                .generator("data", a.data)
                .generator("noise", a.noise);
        assertThatThrownBy(() -> misfit.read(file))
            .isInstanceOf(CheckpointFormatException.class)
            .hasMessageContaining("module 'model'")
            .hasMessageContaining("missing [weight, bias");
      }
      // The description is covered by the checksum too: a changed step is caught.
      String text = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
      Path tampered = tmp.resolve("tampered.safetensors");
      Files.write(
          tampered,
          text.replace("\\\"step\\\":1,", "\\\"step\\\":7,")
              .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      assertThat(Files.readAllBytes(tampered)).isNotEqualTo(bytes);
      assertThatThrownBy(() -> TrainingCheckpoint.peek(tampered))
          .isInstanceOf(CheckpointFormatException.class)
          .hasMessageContaining("checksum mismatch");
    }
  }

  @Test
  void storeKeepsTheLastCheckpointsAndPointsAtTheNewest(@TempDir Path tmp) throws IOException {
    CheckpointStore store = new CheckpointStore(tmp.resolve("checkpoints"), 2);
    try (TinyRun a = new TinyRun(CONFIG)) {
      assertThat(store.restoreLatest(a.checkpoint)).isEmpty();
      for (int i = 0; i < 4; i++) {
        a.step();
        store.save(a.checkpoint, a.counters());
      }
      assertThat(store.list())
          .extracting(p -> p.getFileName().toString())
          .containsExactly(CheckpointStore.fileName(3), CheckpointStore.fileName(4));
      assertThat(store.latest()).contains(store.dir().resolve(CheckpointStore.fileName(4)));
      try (TinyRun b = new TinyRun(CONFIG)) {
        b.restored(store.restoreLatest(b.checkpoint).orElseThrow());
        b.assertIdenticalTo(a);
      }
    }
  }

  @Test
  void damagedNewestFilesFallBackToTheLastCompleteCheckpoint(@TempDir Path tmp) throws IOException {
    java.util.Random rnd = new java.util.Random(System.nanoTime());
    Path dir = tmp.resolve("checkpoints");
    CheckpointStore store = new CheckpointStore(dir, 5);
    try (TinyRun a = new TinyRun(CONFIG);
        TinyRun atTwo = new TinyRun(CONFIG)) {
      for (int i = 0; i < 3; i++) {
        a.step();
        store.save(a.checkpoint, a.counters());
        if (i == 1) {
          atTwo.checkpoint.read(store.latest().orElseThrow());
          atTwo.restored(TrainingCheckpoint.peek(store.latest().orElseThrow()));
        }
      }
      Path newest = store.latest().orElseThrow();
      long size = Files.size(newest);
      long cut = 1 + (long) (rnd.nextDouble() * (size - 1));
      try (FileChannel ch = FileChannel.open(newest, StandardOpenOption.WRITE)) {
        ch.truncate(cut); // what a non-atomic writer killed mid-write would leave
      }
      byte[] partial =
          java.util.Arrays.copyOf(Files.readAllBytes(store.list().get(0)), (int) cut / 2);
      Files.write(dir.resolve(".step-000000000004.safetensors.1234.tmp"), partial);
      CheckpointStore reopened = new CheckpointStore(dir, 5);
      try (var ds = Files.list(dir)) {
        assertThat(ds.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
      }
      try (TinyRun b = new TinyRun(CONFIG)) {
        b.restored(reopened.restoreLatest(b.checkpoint).orElseThrow());
        b.assertIdenticalTo(atTwo);
      }
      Files.writeString(dir.resolve(CheckpointStore.LATEST), "garbage\n");
      Path second = store.list().get(1);
      byte[] bytes = Files.readAllBytes(second);
      long dataStart =
          8
              + java.nio.ByteBuffer.wrap(bytes, 0, 8)
                  .order(java.nio.ByteOrder.LITTLE_ENDIAN)
                  .getLong();
      int at = (int) (dataStart + rnd.nextDouble() * (bytes.length - dataStart));
      bytes[at] ^= (byte) (1 + rnd.nextInt(255));
      Files.write(second, bytes);
      try (TinyRun c = new TinyRun(CONFIG)) {
        TrainingCheckpoint.Counters got = reopened.restoreLatest(c.checkpoint).orElseThrow();
        assertThat(got.step()).as("byte %d of %d flipped", at, bytes.length).isEqualTo(1);
      }
    }
  }
}
