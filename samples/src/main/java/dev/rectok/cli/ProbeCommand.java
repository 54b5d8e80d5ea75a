package dev.rectok.cli;

import dev.rectok.api.DType;
import dev.rectok.image.AdmPreprocess;
import dev.rectok.models.RecTokTokenizer;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.train.metrics.FeatureShards;
import dev.rectok.train.metrics.LinearProbe;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rectok eval probe}: linear probing on a tokenizer's latents. Each split is an
 * ImageNet-style folder of class sub-folders (labels in sorted folder order). Images are ADM
 * centre-cropped to the tokenizer's size and encoded (posterior mean, channel-normalised when the
 * model file has statistics); the feature of an image is its latent averaged over positions ({@code
 * --features pooled}, C values) or the whole latent ({@code --features flat}). Features are
 * extracted in batches and written to an on-disk cache in shards as they come ({@link
 * FeatureShards}: {@code x} float32, {@code y} int64 per shard, a manifest written last), reused on
 * the next run; the linear classifier ({@link LinearProbe}: standardised features, AdamW,
 * cross-entropy) then trains on the cached train split shard by shard and is scored on val, so
 * memory holds a few shards, never the whole split. The paper does not give its probing protocol in
 * the repository; this one is ours (documented in docs/evaluation.md).
 */
@Command(
    name = "probe",
    description =
        "Linear-probe accuracy on tokenizer latents (class-folder train/val splits, features cached as .npz).")
final class ProbeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--tokenizer", required = true, description = "tokenizer model file")
  Path tokenizer;

  @Option(
      names = "--train",
      required = true,
      description = "train split: a folder of class sub-folders")
  Path train;

  @Option(
      names = "--val",
      required = true,
      description = "validation split: a folder with the same class sub-folders")
  Path val;

  @Option(
      names = "--cache",
      description = "folder for the feature caches (default: ${DEFAULT-VALUE})")
  Path cache = Path.of("probe-cache");

  @Option(
      names = "--features",
      description = "pooled (mean over positions) or flat (default: ${DEFAULT-VALUE})")
  String features = "pooled";

  @Option(names = "--epochs", description = "probe epochs (default: ${DEFAULT-VALUE})")
  int epochs = 30;

  @Option(names = "--batch", description = "images per encoder call (default: ${DEFAULT-VALUE})")
  int batch = 64;

  @Option(
      names = "--shard-images",
      description =
          "images per cache shard; memory holds about two shards of features (default: ${DEFAULT-VALUE})")
  int shardImages = 16_384;

  @Mixin DeviceOption device;

  @Override
  public Integer call() throws Exception {
    if (!features.equals("pooled") && !features.equals("flat")) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--features must be pooled or flat, got '" + features + "'");
    }
    if (epochs < 1 || epochs > 10_000 || batch < 1 || batch > 4096) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--epochs must be in 1..10000 and --batch in 1..4096");
    }
    List<String> classes = classes(train);
    if (!classes.equals(classes(val))) {
      throw new IllegalArgumentException(
          val + " does not have the class folders of " + train + " (" + classes.size() + ")");
    }
    Files.createDirectories(cache);
    String tag = EvalCommand.sha256(tokenizer).substring(0, 12) + "-" + features;
    Path trainCache = cache.resolve("train-" + tag);
    Path valCache = cache.resolve("val-" + tag);
    try (RecTokTokenizer tok = RecTokTokenizer.open(tokenizer, device.get())) {
      extract(tok, train, classes, trainCache);
      extract(tok, val, classes, valCache);
    }
    LinearProbe.Result r =
        LinearProbe.fit(
            FeatureShards.open(trainCache),
            FeatureShards.open(valCache),
            LinearProbe.Config.defaults().withEpochs(epochs));
    System.out.println("classes=" + classes.size());
    System.out.println("train_accuracy=" + r.trainAccuracy());
    System.out.println("val_accuracy=" + r.testAccuracy());
    return 0;
  }

  private static List<String> classes(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new java.nio.file.NoSuchFileException(
          dir.toString(), null, "not a folder of class sub-folders");
    }
    try (Stream<Path> s = Files.list(dir)) {
      List<String> c =
          s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
      if (c.size() < 2) {
        throw new IOException(
            dir + " has " + c.size() + " class folder(s); a probe needs at least 2");
      }
      return c;
    }
  }

  private static List<Path> images(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(
              p -> {
                String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                return Files.isRegularFile(p)
                    && (n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg"));
              })
          .sorted()
          .toList();
    }
  }

  // Encodes a split into a sharded cache; an existing complete cache (with its manifest) is reused.
  private void extract(RecTokTokenizer tok, Path split, List<String> classes, Path out)
      throws IOException {
    if (FeatureShards.isComplete(out)) {
      System.err.println("reusing " + out);
      return;
    }
    List<Path> files = new ArrayList<>();
    List<Long> labels = new ArrayList<>();
    for (int c = 0; c < classes.size(); c++) {
      for (Path f : images(split.resolve(classes.get(c)))) {
        files.add(f);
        labels.add((long) c);
      }
    }
    int[] shape = tok.latentShape();
    long dim = features.equals("pooled") ? shape[0] : (long) shape[0] * shape[1] * shape[2];
    AdmPreprocess pre = new AdmPreprocess(tok.imageSize());
    ConsoleProgress progress = new ConsoleProgress(System.err);
    progress.start("encoding " + split, files.size());
    FeatureShards.Writer w = FeatureShards.create(out, dim, shardImages);
    for (int from = 0; from < files.size(); from += batch) {
      List<Path> part = files.subList(from, Math.min(files.size(), from + batch));
      try (Scope s = Scope.open()) {
        Tensor z =
            tok.encodeTensor(pre.applyAll(new ArrayList<>(part)), false, 0, tok.hasStatistics());
        Tensor f = features.equals("pooled") ? z.mean(new long[] {2, 3}, false) : z.flatten(1, -1);
        long[] y = new long[part.size()];
        for (int k = 0; k < y.length; k++) {
          y[k] = labels.get(from + k);
        }
        w.add(f.to(DType.FLOAT32).toFloatArray(), y);
      }
      progress.update(from + part.size(), "");
    }
    progress.end();
    w.commit();
  }
}
