package dev.rectok.cli;

import dev.rectok.data.ImageList;
import dev.rectok.models.RecTokTokenizer;
import dev.rectok.models.stats.StatisticsCollector;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code rectok stats}: the tokenizer's per-channel latent statistics over a dataset, as the
 * reference computes them; resumable from a checkpoint written along the way.
 */
@Command(
    name = "stats",
    description =
        "Compute per-channel latent statistics over an image folder or file list (resumable).")
final class StatsCommand implements Callable<Integer> {
  @Option(
      names = "--tokenizer",
      required = true,
      description = "tokenizer model file (statistics in it are not needed)")
  Path tokenizer;

  @Option(
      names = "--images",
      required = true,
      description = "an image folder (searched recursively) or a file list")
  Path images;

  @Option(names = "--out", required = true, description = "statistics JSON to write")
  Path out;

  @Option(names = "--batch", description = "images per batch (default: ${DEFAULT-VALUE})")
  int batch = StatisticsCollector.DEFAULT_BATCH_SIZE;

  @Option(
      names = "--checkpoint",
      description = "resume file (default: OUT.checkpoint.json); rerun the same command to resume")
  Path checkpoint;

  @Option(
      names = "--max-images",
      description = "stop after about this many images (the checkpoint allows resuming)")
  Long maxImages;

  @Option(names = "--readers", description = "image decoding threads (default: ${DEFAULT-VALUE})")
  int readers = 1;

  @Mixin DeviceOption device;

  @Mixin ForceOption force;

  @Override
  public Integer call() throws Exception {
    OptionChecks.refuseOverwrite(force.force, List.of(out));
    ImageList list = ImageList.open(images);
    Path ckpt =
        checkpoint != null
            ? checkpoint
            : out.resolveSibling(out.getFileName() + ".checkpoint.json");
    StatisticsCollector.Builder b =
        StatisticsCollector.builder()
            .batchSize(batch)
            .checkpoint(ckpt)
            .progress(new ConsoleProgress(System.err))
            .readers(readers);
    if (maxImages != null) {
      b.maxImages(maxImages);
    }
    try (RecTokTokenizer tok = RecTokTokenizer.open(tokenizer, device.get())) {
      StatisticsCollector.Result r = b.build().collect(tok.model(), list);
      System.out.printf(
          "%s%d images (%d unreadable, skipped)%n",
          r.resumed() ? "resumed; " : "", r.images(), r.skipped());
      if (!r.complete()) {
        System.out.println(
            "stopped early at image "
                + r.position()
                + "; rerun the same command to continue from "
                + ckpt);
        return 0;
      }
      r.statistics().write(out);
      System.out.println("wrote " + out + " (" + r.statistics().mean().length + " channels)");
    }
    return 0;
  }
}
