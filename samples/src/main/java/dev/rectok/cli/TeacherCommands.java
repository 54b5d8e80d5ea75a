package dev.rectok.cli;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.models.dinov3.DinoV3;
import dev.rectok.models.dinov3.DinoV3Config;
import dev.rectok.models.dinov3.DinoV3Weights;
import dev.rectok.torch.Autocast;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.Torch;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.train.teacher.DinoV3Teacher;
import dev.rectok.train.teacher.TeacherFeatureWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The DINOv3 teacher on the command line: {@code rectok convert --kind teacher} (via {@link
 * #convert}), {@code rectok teacher-features} ({@link Features}) and {@code rectok bench teacher}
 * ({@link Bench}). Each command runs on the calling thread.
 */
final class TeacherCommands {
  private TeacherCommands() {}

  /**
   * {@code rectok convert IN OUT --kind teacher [--config PRESET|JSON]}: DINOv3 weights in either
   * published layout to a teacher model file, validated by loading them into the model.
   */
  static int convert(Path in, Path out, String config) throws IOException {
    if (!Files.exists(in)) {
      throw new NoSuchFileException(in.toString(), null, "no such file; " + DinoV3Weights.where());
    }
    DinoV3Config c = null;
    if (config != null) {
      if (Files.isRegularFile(Path.of(config))) {
        var json =
            new com.fasterxml.jackson.databind.ObjectMapper().readTree(Path.of(config).toFile());
        c =
            DinoV3Config.fromConstructorKwargs(
                json.has("constructor_kwargs") ? json.get("constructor_kwargs") : json);
      } else {
        c = DinoV3Config.preset(config);
      }
    }
    try (DinoV3 m = DinoV3Weights.load(in, c)) {
      System.out.println("loaded " + in + ": DINOv3 " + m.config().toConstructorKwargs());
      DinoV3Weights.save(m, out);
    }
    System.out.println("wrote " + out);
    return 0;
  }

  /** {@code rectok teacher-features}: precomputed teacher feature shards for stage-1 training. */
  @Command(
      name = "teacher-features",
      description =
          "Compute the teacher's patch features of a training set into"
              + " resumable shards that 'train tokenizer --teacher DIR' reads.")
  static final class Features implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--teacher",
        required = true,
        description =
            "DINOv3 weights (official .pth, transformers"
                + " model.safetensors or a teacher model file) or the demo's ViT teacher model file")
    Path teacher;

    @Option(
        names = "--data",
        required = true,
        description = "Fashion-MNIST folder, image folder or file list")
    Path data;

    @Option(
        names = "--out",
        required = true,
        description = "folder for the shards (rerun the same command to resume)")
    Path out;

    @Option(
        names = "--image-size",
        description = "the tokenizer's image size (default: ${DEFAULT-VALUE})")
    int imageSize = 256;

    @Option(
        names = "--grid",
        description =
            "token grid side of the tokenizer (default: image size / 16, the RecTok"
                + " setting); the DINOv3 teacher then sees grid x patch pixels")
    Integer grid;

    @Option(
        names = "--batch",
        description = "images per teacher forward (default: ${DEFAULT-VALUE})")
    int batch = 16;

    @Option(names = "--chunk", description = "images per shard file (default: ${DEFAULT-VALUE})")
    int chunk = 1024;

    @Option(
        names = "--shard",
        description =
            "i/n: this process writes chunks c with c %% n == i (default: ${DEFAULT-VALUE})")
    String shard = "0/1";

    @Option(
        names = "--dtype",
        description = "float32 or bfloat16 (half the disk) (default: ${DEFAULT-VALUE})")
    String dtype = "float32";

    @Option(names = "--limit", description = "only the first N images (default: all)")
    int limit = -1;

    @Option(
        names = "--autocast",
        description =
            "none or bf16: the teacher forward under autocast (default: ${DEFAULT-VALUE})")
    String autocast = "none";

    @Mixin DeviceOption device;

    @Override
    public Integer call() throws IOException {
      CommandLine cl = spec.commandLine();
      String[] sh = shard.split("/", -1);
      int si;
      int sn;
      try {
        si = Integer.parseInt(sh[0]);
        sn = Integer.parseInt(sh[1]);
      } catch (RuntimeException e) {
        throw new ParameterException(
            cl, "--shard must be i/n with 0 <= i < n, got '" + shard + "'");
      }
      if (sh.length != 2 || sn < 1 || si < 0 || si >= sn) {
        throw new ParameterException(
            cl, "--shard must be i/n with 0 <= i < n, got '" + shard + "'");
      }
      if (imageSize < 1 || batch < 1 || chunk < 1 || (grid != null && grid < 1)) {
        throw new ParameterException(cl, "--image-size, --batch, --chunk and --grid must be >= 1");
      }
      DType stored =
          switch (dtype) {
            case "float32" -> DType.FLOAT32;
            case "bfloat16" -> DType.BFLOAT16;
            default ->
                throw new ParameterException(
                    cl, "--dtype must be float32 or bfloat16, got '" + dtype + "'");
          };
      DType mixed;
      try {
        mixed = Autocast.parse(autocast);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(cl, "--autocast must be none or bf16, got '" + autocast + "'");
      }
      int g = grid != null ? grid : imageSize / 16;
      if (g < 1) {
        throw new ParameterException(
            cl, "--grid must be >= 1 (image size " + imageSize + " / 16 is 0)");
      }
      var o =
          new TeacherFeatureWriter.Options(
              teacher.getFileName().toString(), chunk, batch, si, sn, stored, limit);
      TeacherFeatureWriter.Report r =
          TeacherFeatureWriter.run(
              teacher,
              data,
              imageSize,
              g,
              mixed,
              device.get(),
              out,
              o,
              new ConsoleProgress(System.err));
      System.out.printf(
          "%s: %d chunks written, %d already there (shard %d/%d), %d images in %.1f s%s%n",
          out,
          r.chunksWritten(),
          r.chunksSkipped(),
          si,
          sn,
          r.imagesWritten(),
          r.seconds(),
          r.featureShape() == null
              ? ""
              : ", features " + java.util.Arrays.toString(r.featureShape()) + " " + dtype);
      if (r.imagesWritten() > 0) {
        System.out.printf("images_per_second=%.3f%n", r.imagesWritten() / r.seconds());
      }
      return 0;
    }
  }

  /**
   * {@code rectok bench teacher}: the teacher forward (RecTok's image path + DINOv3 with seeded
   * random weights) at the tokenizer's image size, fp32 or bf16 autocast. Machine-readable last
   * lines: {@code cpu_ms_per_forward=}, {@code ms_per_forward=}, {@code peak_rss_mb=}, then {@code
   * images_per_second=} last.
   */
  @Command(
      name = "teacher",
      description = "DINOv3 teacher forward throughput (256x256 images -> 16x16 patch features).")
  static final class Bench implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--preset",
        description = "dinov3_vits16, dinov3_vitb16 or dinov3_vitl16 (default: ${DEFAULT-VALUE})")
    String preset = "dinov3_vitl16";

    @Option(names = "--image-size", description = "image side (default: ${DEFAULT-VALUE})")
    int imageSize = 256;

    @Option(
        names = "--precision",
        description = "fp32 or bf16 (autocast) (default: ${DEFAULT-VALUE})")
    String precision = "fp32";

    @Mixin BenchCommand.Common common;

    @Mixin DeviceOption device;

    @Override
    public Integer call() throws IOException {
      CommandLine cl = spec.commandLine();
      if (!precision.equals("fp32") && !precision.equals("bf16")) {
        throw new ParameterException(
            cl, "--precision must be fp32 or bf16, got '" + precision + "'");
      }
      if (common.batch < 1 || imageSize < 16) {
        throw new ParameterException(cl, "--batch must be >= 1 and --image-size >= 16");
      }
      DinoV3Config c;
      try {
        c = DinoV3Config.preset(preset);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(cl, "--preset: " + e.getMessage());
      }
      if (common.threads != null) {
        Torch.setNumThreads(common.threads);
      }
      Device dev = device.get();
      DinoV3 model = new DinoV3(c);
      try (TorchGenerator g = TorchGenerator.cpu(common.seed);
          DinoV3Teacher t = new DinoV3Teacher(model)) {
        model.initRandom(g);
        if (dev.isCuda()) {
          model.to(null, dev);
        }
        t.tokenGrid(imageSize / 16, imageSize / 16)
            .autocast(precision.equals("bf16") ? DType.BFLOAT16 : null);
        try (Scope outer = Scope.open()) {
          Tensor x =
              Tensor.rand(new long[] {common.batch, 3, imageSize, imageSize}, g, DType.FLOAT32, dev)
                  .mul(2)
                  .sub(1);
          long[] shape = new long[3];
          double[] ms =
              BenchCommand.time(
                  common.warmup,
                  common.iters,
                  i -> {
                    try (Scope s = Scope.open()) {
                      Tensor f = t.features(x, null);
                      System.arraycopy(f.shape(), 0, shape, 0, 3);
                      if (dev.isCuda()) {
                        Torch.cudaSynchronize(Math.max(0, dev.index()));
                      }
                    }
                  });
          System.out.printf(
              "%s %s, batch %d, %dx%d -> features %s, %.0fM parameters, %d threads, %s%n",
              preset,
              precision,
              common.batch,
              imageSize,
              imageSize,
              java.util.Arrays.toString(shape),
              model.numParameters(false) / 1e6,
              Torch.numThreads(),
              dev);
          System.out.printf(
              "teacher forward: %s ms per forward (median of %d)%n",
              java.util.Arrays.toString(
                  java.util.Arrays.stream(ms).map(v -> Math.round(v * 10) / 10.0).toArray()),
              ms.length);
          double med = BenchCommand.median(ms);
          if (BenchCommand.lastCpuMs.length == ms.length) {
            System.out.printf(
                "cpu_ms_per_forward=%.2f%n", BenchCommand.median(BenchCommand.lastCpuMs));
          }
          System.out.printf("ms_per_forward=%.2f%n", med);
          System.out.printf("peak_rss_mb=%.0f%n", BenchCommand.peakRssMb());
          System.out.printf("images_per_second=%.4f%n", common.batch / (med / 1000.0));
        }
      }
      return 0;
    }
  }
}
