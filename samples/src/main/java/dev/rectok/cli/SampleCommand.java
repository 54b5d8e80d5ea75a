package dev.rectok.cli;

import dev.rectok.api.GenerateOptions;
import dev.rectok.api.Latents;
import dev.rectok.generate.DiTGenerator;
import dev.rectok.models.RecTokTokenizer;
import dev.rectok.torch.io.Npz;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rectok sample}: the evaluation sample set (50 per class, labels {@code i % classes}, like
 * the reference's {@code evaluate_FID}) as PNGs {@code NNNNNN.png} by global index, and optionally
 * {@code samples.npz} ({@code arr_0}) for the official evaluators. Each image's noise comes from
 * {@code (seed, global index)}, so it does not depend on batch size, threads or {@code --shard
 * i/n}; the float32 rounding inside the network does (a GEMM's result depends on its row count),
 * which can move a pixel value by one level (see {@code docs/evaluation.md}); finished images are
 * kept, so rerunning resumes; every PNG is written under a temporary name and renamed, so a partial
 * file is never taken for a finished one.
 */
@Command(
    name = "sample",
    description =
        "Generate an evaluation sample set (PNG folder and/or .npz), resumable and shardable.")
final class SampleCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--generator", required = true, description = "generator model file")
  Path generator;

  @Option(names = "--guide", description = "AutoGuidance companion model file")
  Path guide;

  @Option(
      names = "--tokenizer",
      required = true,
      description = "tokenizer model file with latent statistics")
  Path tokenizer;

  @Option(
      names = "--num",
      description = "number of images in the whole set (default: ${DEFAULT-VALUE})")
  int num = 50_000;

  @Option(
      names = "--labels",
      description =
          "balanced (label = index %% classes) or a comma list cycled over the indices (default: ${DEFAULT-VALUE})")
  String labels = "balanced";

  @Option(names = "--seed", description = "seed of the noise (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(
      names = "--batch",
      description =
          "images per generator call; changes an image by float rounding at most (default: ${DEFAULT-VALUE})")
  // issue 13: 64, not 32 — per-image cost falls with the batch on every size measured
  // (bench/README.md, "Batch size for many requests"); larger for small models
  int batch = 64;

  @Option(
      names = "--out",
      required = true,
      description = "folder of PNGs (created; finished images are kept)")
  Path out;

  @Option(
      names = "--npz",
      description =
          "also write the whole set as this .npz (arr_0 uint8 N x H x W x 3) once every image exists")
  Path npz;

  @Option(
      names = "--shard",
      description =
          "i/n: generate only the i-th of n contiguous parts of the index range (default: 0/1; under rectok launch: RANK/WORLD_SIZE)")
  String shard = "0/1";

  @Option(names = "--force", description = "overwrite an existing --npz")
  boolean force;

  @Mixin SamplingOptions sampling;

  @Mixin DeviceOption device;

  @Override
  public Integer call() throws Exception {
    // under `rectok launch` / torchrun: this rank's share of the indices, rank 0 writes the .npz
    try (DistributedSession dist = DistributedSession.open()) { // issue 14
      int code = generate(dist);
      dist.done();
      return code;
    }
  }

  private Integer generate(DistributedSession dist) throws Exception {
    if (num < 1) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--num must be at least 1, got " + num);
    }
    if (batch < 1 || batch > 4096) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--batch must be in 1..4096, got " + batch);
    }
    int[] sh = SampleShards.of(spec, parseShard(), dist.rank(), dist.size());
    GenerateOptions.GuidanceKind kind = sampling.kind();
    if (kind == GenerateOptions.GuidanceKind.AUTOGUIDANCE && guide == null) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--guidance autoguidance needs --guide (the DiTDDT_s model file)");
    }
    if (npz != null && Files.exists(npz) && !force) {
      throw new FileAlreadyExistsException(
          npz.toString(), null, "exists; pass --force to overwrite");
    }
    long from = (long) sh[0] * num / sh[1];
    long to = (long) (sh[0] + 1) * num / sh[1];
    Files.createDirectories(out);
    try (RecTokTokenizer tok = RecTokTokenizer.open(tokenizer, device.get());
        DiTGenerator gen =
            DiTGenerator.open(
                generator,
                kind == GenerateOptions.GuidanceKind.AUTOGUIDANCE ? guide : null,
                device.get())) {
      if (!tok.hasStatistics()) {
        throw new IllegalArgumentException(
            tokenizer + " has no latent statistics, so generated latents cannot be decoded");
      }
      if (!Arrays.equals(tok.latentShape(), gen.latentShape())) {
        throw new IllegalArgumentException(
            "the generator makes "
                + Arrays.toString(gen.latentShape())
                + " latents but the tokenizer decodes "
                + Arrays.toString(tok.latentShape()));
      }
      long[] cycle = labelCycle(gen.numClasses());
      List<Long> todo = new ArrayList<>();
      for (long g = from; g < to; g++) {
        if (!Files.isRegularFile(file(g))) {
          todo.add(g);
        }
      }
      System.err.printf(
          "shard %d/%d: images %d..%d, %d already done, %d to generate%n",
          sh[0], sh[1], from, to - 1, (to - from) - todo.size(), todo.size());
      dev.rectok.api.Progress progress = dist.progress();
      progress.start("sampling", todo.size());
      int done = 0;
      int i = 0;
      while (i < todo.size()) {
        // a batch is a run of consecutive missing indices, so (seed, first index) names every noise
        int j = i + 1;
        while (j < todo.size() && j - i < batch && todo.get(j) == todo.get(j - 1) + 1) {
          j++;
        }
        long first = todo.get(i);
        long[] lab = new long[j - i];
        for (int k = 0; k < lab.length; k++) {
          lab[k] = cycle[(int) ((first + k) % cycle.length)];
        }
        GenerateOptions options = sampling.builder().firstSampleIndex(first).build();
        Latents latents = gen.sample(lab, seed, options, dev.rectok.api.Progress.NONE);
        List<BufferedImage> images = tok.decode(latents);
        for (int k = 0; k < images.size(); k++) {
          Path f = file(first + k);
          Path tmp = f.resolveSibling("." + f.getFileName() + ".tmp");
          if (!ImageIO.write(images.get(k), "png", tmp.toFile())) {
            throw new IOException("no PNG writer for " + tmp);
          }
          Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        done += lab.length;
        progress.update(done, "");
        i = j;
      }
      progress.end();
    }
    System.out.println("images=" + (to - from) + " in " + out);
    if (npz != null) {
      dist.barrier(); // every rank's images are on disk before rank 0 reads them
      if (dist.isMain()) {
        writeNpz();
      }
    }
    return 0;
  }

  private Path file(long g) {
    return out.resolve(String.format("%06d.png", g));
  }

  private int[] parseShard() {
    String[] p = shard.split("/");
    try {
      int i = Integer.parseInt(p[0].strip());
      int n = Integer.parseInt(p[1].strip());
      if (p.length == 2 && n >= 1 && i >= 0 && i < n && n <= num) {
        return new int[] {i, n};
      }
    } catch (RuntimeException e) {
      // reported below
    }
    throw new CommandLine.ParameterException(
        spec.commandLine(), "--shard must be i/n with 0 <= i < n <= --num, got '" + shard + "'");
  }

  private long[] labelCycle(int classes) {
    if (labels.equals("balanced")) {
      long[] c = new long[classes];
      for (int k = 0; k < classes; k++) {
        c[k] = k;
      }
      return c;
    }
    try {
      long[] c =
          Arrays.stream(labels.split(",")).map(String::strip).mapToLong(Long::parseLong).toArray();
      for (long l : c) {
        if (l < 0 || l >= classes) {
          throw new CommandLine.ParameterException(
              spec.commandLine(), "--labels: label " + l + " is outside 0.." + (classes - 1));
        }
      }
      return c;
    } catch (NumberFormatException e) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "--labels must be 'balanced' or a comma list of class indices, got '" + labels + "'");
    }
  }

  // Streams every PNG of the whole set into arr_0; refuses when some are missing (other shards not
  // done).
  private void writeNpz() throws IOException {
    for (long g = 0; g < num; g++) {
      if (!Files.isRegularFile(file(g))) {
        System.err.println(
            "not writing "
                + npz
                + ": image "
                + file(g)
                + " is missing (other shards not finished); rerun with --npz when they are");
        return;
      }
    }
    BufferedImage first = ImageIO.read(file(0).toFile());
    int h = first.getHeight();
    int w = first.getWidth();
    try (Npz.Writer wr = Npz.create(npz, false)) {
      wr.beginBytes("arr_0", num, h, w, 3);
      int[] rgb = new int[h * w];
      byte[] hwc = new byte[h * w * 3];
      for (long g = 0; g < num; g++) {
        BufferedImage img = ImageIO.read(file(g).toFile());
        if (img == null || img.getHeight() != h || img.getWidth() != w) {
          throw new IOException(
              file(g)
                  + " is unreadable or not "
                  + w
                  + "x"
                  + h
                  + "; regenerate it (delete it and rerun)");
        }
        img.getRGB(0, 0, w, h, rgb, 0, w);
        for (int p = 0; p < rgb.length; p++) {
          hwc[p * 3] = (byte) (rgb[p] >>> 16);
          hwc[p * 3 + 1] = (byte) (rgb[p] >>> 8);
          hwc[p * 3 + 2] = (byte) rgb[p];
        }
        wr.write(hwc);
      }
      wr.commit();
    }
    System.out.println("wrote " + npz);
  }
}
