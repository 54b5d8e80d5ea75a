package dev.rectok.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.api.DType;
import dev.rectok.eval.Evaluation;
import dev.rectok.eval.Fid;
import dev.rectok.eval.FrechetDistance;
import dev.rectok.eval.Reconstruction;
import dev.rectok.eval.ReferenceStatistics;
import dev.rectok.models.RecTokTokenizer;
import dev.rectok.models.inception.InceptionV3;
import dev.rectok.models.inception.InceptionWeights;
import dev.rectok.torch.io.AtomicFiles;
import dev.rectok.torch.io.CheckpointFormatException;
import dev.rectok.torch.io.Npz;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rectok eval fid|isc|prc|all|recon|stats|probe}: evaluation like the paper
 * (torch-fidelity's Inception, FID/IS/precision-recall in torch-fidelity's or the ADM evaluator's
 * formulas), see the README section "Evaluate like the paper".
 */
@Command(
    name = "eval",
    description =
        "Evaluate like the paper: FID, Inception Score, precision/recall, rFID + PSNR, statistics, linear probe.",
    subcommands = {
      EvalCommand.FidCmd.class,
      EvalCommand.IscCmd.class,
      EvalCommand.PrcCmd.class,
      EvalCommand.AllCmd.class,
      EvalCommand.Recon.class,
      EvalCommand.Stats.class,
      ProbeCommand.class,
      // --- issue 11: KID and sFID ---
      EvalCommand.KidCmd.class,
      EvalCommand.SfidCmd.class
    })
final class EvalCommand implements Runnable {
  static final String SDK_VERSION = "0.1.0";
  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** Options every Inception-based subcommand shares. */
  static final class InceptionOptions {
    @Option(
        names = "--inception",
        required = true,
        description =
            "Inception weights: "
                + InceptionWeights.TORCH_FIDELITY_FILE
                + ", "
                + InceptionWeights.PYTORCH_FID_FILE
                + " or the .safetensors of 'rectok convert --kind inception'")
    Path inception;

    @Option(
        names = "--batch",
        description = "images per Inception call (default: ${DEFAULT-VALUE})")
    int batch = 50;

    @Option(
        names = "--threads",
        description = "image decoder threads (default: the number of cores)")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(
        names = "--float64",
        description =
            "run the Inception network in float64 (torch-fidelity's feature_extractor_internal_dtype)")
    boolean float64;

    @Option(names = "--force", description = "overwrite existing outputs")
    boolean force;

    @Mixin DeviceOption device;

    void check(CommandSpec spec) {
      if (batch < 1 || batch > 4096) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), "--batch must be in 1..4096, got " + batch);
      }
      if (threads < 1 || threads > 256) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), "--threads must be in 1..256, got " + threads);
      }
    }

    InceptionV3 load() throws IOException {
      InceptionV3 net = InceptionWeights.load(inception);
      net.to(float64 ? DType.FLOAT64 : DType.FLOAT32, device.get());
      return net;
    }
  }

  static Fid.Protocol protocol(CommandSpec spec, String name) {
    try {
      return Fid.Protocol.of(name);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--protocol must be torch-fidelity or adm, got '" + name + "'");
    }
  }

  static void refuseOverwrite(Path out, boolean force) throws IOException {
    if (out != null && Files.exists(out) && !force) {
      throw new FileAlreadyExistsException(
          out.toString(), null, "exists; pass --force to overwrite");
    }
  }

  /** SHA-256 of a file (or of every file of a folder, in name order), hex; null for null. */
  static String sha256(Path p) throws IOException {
    return dev.rectok.eval.FileHashes.sha256(p);
  }

  static void writeJson(Path out, ObjectNode node) throws IOException {
    AtomicFiles.write(out, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(node));
  }

  /** {@code rectok eval fid|isc|prc|all}. */
  abstract static class MetricsCmd implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--samples",
        required = true,
        description = "generated images: a folder of PNGs or an .npz with arr_0")
    Path samples;

    @Option(
        names = "--ref",
        description =
            "reference: an image folder, an .npz with arr_0, or statistics (.npz with mu, sigma)")
    Path ref;

    @Option(
        names = "--protocol",
        description =
            "torch-fidelity (RecTok's numbers) or adm (guided-diffusion evaluator.py) (default: ${DEFAULT-VALUE})")
    String protocol = "torch-fidelity";

    @Option(
        names = "--skip-bad",
        description = "skip unreadable or mismatched sample images and count them in metrics.json")
    boolean skipBad;

    @Option(names = "--out", description = "metrics JSON to write (default: ${DEFAULT-VALUE})")
    Path out = Path.of("metrics.json");

    @Mixin InceptionOptions inc;

    @Mixin KidOptions kid;

    abstract String what();

    @Override
    public Integer call() throws Exception {
      // under `rectok launch`: the ranks share the images, rank 0 writes (issue 14)
      try (DistributedSession dist = DistributedSession.open()) {
        int code = evaluate(dist);
        dist.done();
        return code;
      }
    }

    private Integer evaluate(DistributedSession dist) throws Exception {
      inc.check(spec);
      Fid.Protocol p = protocol(spec, protocol);
      var requested = Evaluation.metricsOf(what(), p);
      // "all" computes what the reference allows; a single metric it cannot give is an error
      var metrics = what().equals("all") ? Evaluation.possibleWith(requested, ref) : requested;
      if (ref == null && !what().equals("isc")) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), "--ref is required for " + what());
      }
      refuseOverwrite(out, inc.force);
      if (!Files.exists(samples)) {
        throw new java.nio.file.NoSuchFileException(
            samples.toString(), null, "no such sample folder or .npz");
      }
      Evaluation.Report r;
      try (InceptionV3 net = inc.load()) {
        r =
            Evaluation.run(
                net,
                samples,
                ref,
                new Evaluation.Options(metrics, p, inc.batch, skipBad, inc.threads, kid.get()),
                dist.progress());
      }
      if (!dist.isMain()) {
        return 0;
      }
      ObjectNode j = JSON.createObjectNode();
      j.put("protocol", p.key());
      j.put("samples", samples.toString());
      j.put("num_samples", r.samples());
      j.put("num_skipped", r.skipped());
      if (ref != null) {
        j.put("reference", ref.toString());
        j.put("reference_sha256", sha256(ref));
        j.put("reference_images", r.referenceImages());
        j.put("reference_stored_statistics", r.referenceStoredStatistics());
      }
      j.put("inception", inc.inception.toString());
      j.put("inception_sha256", sha256(inc.inception));
      j.put("inception_dtype", inc.float64 ? "float64" : "float32");
      j.put("sdk_version", SDK_VERSION);
      EvalExtras.record(j, requested, metrics, kid.get());
      ObjectNode m = j.putObject("metrics");
      r.metrics().entrySet().stream()
          .sorted(Map.Entry.comparingByKey())
          .forEach(
              e -> {
                m.put(e.getKey(), e.getValue());
                System.out.println(e.getKey() + "=" + e.getValue());
              });
      if (r.skipped() > 0) {
        System.out.println("skipped=" + r.skipped());
      }
      writeJson(out, j);
      System.out.println("wrote " + out);
      return 0;
    }
  }

  @Command(name = "fid", description = "FID of --samples against --ref.")
  static final class FidCmd extends MetricsCmd {
    @Override
    String what() {
      return "fid";
    }
  }

  @Command(name = "isc", description = "Inception Score of --samples.")
  static final class IscCmd extends MetricsCmd {
    @Override
    String what() {
      return "isc";
    }
  }

  @Command(
      name = "prc",
      description = "Precision, recall and F-score (k = 3) of --samples against --ref images.")
  static final class PrcCmd extends MetricsCmd {
    @Override
    String what() {
      return "prc";
    }
  }

  @Command(name = "all", description = "FID, Inception Score and precision/recall.")
  static final class AllCmd extends MetricsCmd {
    @Override
    String what() {
      return "all";
    }
  }

  // --- issue 11: KID and sFID ---
  @Command(
      name = "kid",
      description = "Kernel Inception Distance of --samples against --ref images (torch-fidelity).")
  static final class KidCmd extends MetricsCmd {
    @Override
    String what() {
      return "kid";
    }
  }

  @Command(
      name = "sfid",
      description =
          "sFID of --samples against --ref (the ADM evaluator's mixed_6/conv features and formula).")
  static final class SfidCmd extends MetricsCmd {
    @Override
    String what() {
      return "sfid";
    }
  }

  /** {@code rectok eval stats}. */
  @Command(
      name = "stats",
      description =
          "Inception statistics (mu, sigma) of an image set as an .npz (like adm_in256_stats.npz).")
  static final class Stats implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--images",
        required = true,
        description = "an image folder (with --crop: searched recursively) or an .npz with arr_0")
    Path images;

    @Option(names = "--out", required = true, description = ".npz to write (mu, sigma as float64)")
    Path out;

    @Option(
        names = "--crop",
        description =
            "ADM centre crop to this size first (256 for ImageNet validation images, as the reference's val statistics)")
    Integer crop;

    @Option(
        names = "--skip-bad",
        description = "skip unreadable or mismatched images (their number is printed)")
    boolean skipBad;

    @Mixin InceptionOptions inc;

    @Override
    public Integer call() throws Exception {
      try (DistributedSession dist = DistributedSession.open()) { // issue 14
        int code = compute(dist);
        dist.done();
        return code;
      }
    }

    private Integer compute(DistributedSession dist) throws Exception {
      inc.check(spec);
      if (crop != null && (crop < 8 || crop > 4096)) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), "--crop must be in 8..4096, got " + crop);
      }
      refuseOverwrite(out, inc.force);
      FrechetDistance.Statistics st;
      try (InceptionV3 net = inc.load()) {
        st =
            crop != null
                ? Reconstruction.croppedStatistics(
                    net, Reconstruction.imageFiles(images), crop, inc.batch, dist.progress())
                : Evaluation.statistics(
                    net, images, inc.batch, skipBad, inc.threads, dist.progress());
      }
      if (!dist.isMain()) {
        return 0;
      }
      ReferenceStatistics.write(out, st, inc.force);
      System.out.println("images=" + st.count());
      System.out.println("wrote " + out);
      return 0;
    }
  }

  /** {@code rectok eval recon}. */
  @Command(
      name = "recon",
      description =
          "rFID and PSNR of a tokenizer's reconstructions (the reference's run_eval_tokenizer.sh protocol).")
  static final class Recon implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--tokenizer", required = true, description = "tokenizer model file")
    Path tokenizer;

    @Option(
        names = "--images",
        required = true,
        description =
            "image folder (searched recursively), e.g. the 50k ImageNet validation images")
    Path images;

    @Option(
        names = "--ref",
        required = true,
        description =
            "statistics .npz of the centre-cropped originals ('rectok eval stats --crop 256')")
    Path ref;

    @Option(names = "--num", description = "evaluate only the first N images (default: all)")
    Integer num;

    @Option(
        names = "--protocol",
        description = "torch-fidelity or adm FID formula (default: ${DEFAULT-VALUE})")
    String protocol = "torch-fidelity";

    @Option(names = "--out", description = "metrics JSON to write (default: ${DEFAULT-VALUE})")
    Path out = Path.of("recon_metrics.json");

    @Mixin InceptionOptions inc;

    @Override
    public Integer call() throws Exception {
      try (DistributedSession dist = DistributedSession.open()) { // issue 14
        int code = reconstruct(dist);
        dist.done();
        return code;
      }
    }

    private Integer reconstruct(DistributedSession dist) throws Exception {
      inc.check(spec);
      Fid.Protocol p = protocol(spec, protocol);
      if (num != null && num < 2) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), "--num must be at least 2, got " + num);
      }
      refuseOverwrite(out, inc.force);
      FrechetDistance.Statistics refStats;
      try (Npz.Reader r = Npz.open(ref)) {
        if (!ReferenceStatistics.hasStatistics(r)) {
          throw new CheckpointFormatException(
              ref + " has no mu/sigma; make it with 'rectok eval stats --crop SIZE'");
        }
        refStats = ReferenceStatistics.read(r);
      }
      List<Path> files = Reconstruction.imageFiles(images);
      if (num != null) {
        files = files.subList(0, Math.min(num, files.size()));
      }
      Reconstruction.Report rep;
      try (RecTokTokenizer tok = RecTokTokenizer.open(tokenizer, inc.device.get());
          InceptionV3 net = inc.load()) {
        rep = Reconstruction.run(tok, net, files, refStats, p, inc.batch, dist.progress());
      }
      if (!dist.isMain()) {
        return 0;
      }
      ObjectNode j = JSON.createObjectNode();
      j.put("protocol", p.key());
      j.put("tokenizer", tokenizer.toString());
      j.put("tokenizer_sha256", sha256(tokenizer));
      j.put("num_images", rep.images());
      j.put("reference", ref.toString());
      j.put("reference_sha256", sha256(ref));
      j.put("inception_sha256", sha256(inc.inception));
      j.put("sdk_version", SDK_VERSION);
      j.putObject("metrics").put("rfid", rep.rfid()).put("psnr", rep.psnr());
      System.out.println("rfid=" + rep.rfid());
      System.out.println("psnr=" + rep.psnr());
      writeJson(out, j);
      System.out.println("wrote " + out);
      return 0;
    }
  }
}
