package dev.rectok.cli;

import dev.rectok.torch.io.CheckpointFormatException;
import dev.rectok.torch.io.PthCheckpoint;
import dev.rectok.torch.io.PthReader;
import dev.rectok.torch.io.PthTensor;
import dev.rectok.torch.io.SafeTensors;
import dev.rectok.torch.io.SafeTensorsFile;
import dev.rectok.torch.io.SafeText;
import dev.rectok.torch.io.TensorInfo;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code rectok inspect FILE}: the tensors (name, dtype, shape, bytes) and top-level keys of a
 * {@code .pth} or {@code .safetensors} file, read without executing anything.
 */
@Command(
    name = "inspect",
    description = "List the tensors and top-level keys of a .pth or .safetensors file.")
final class InspectCommand implements Callable<Integer> {
  @Parameters(
      paramLabel = "FILE",
      description = "a torch.save zip (.pth/.pt) or a .safetensors file")
  Path file;

  @Override
  public Integer call() throws IOException {
    dev.rectok.torch.io.InputLimits.requireRegularFile(file, "file to inspect");
    if (!Files.isReadable(file)) {
      throw new IOException(file + ": not a readable file");
    }
    try {
      if (isZip(file)) {
        inspectPth();
      } else {
        inspectSafetensors();
      }
    } catch (CheckpointFormatException e) {
      System.err.println("rectok: refusing " + file + ": " + SafeText.message(e.getMessage()));
      return ExitCodes.BAD_INPUT;
    }
    return 0;
  }

  private static boolean isZip(Path p) throws IOException {
    try (InputStream in = Files.newInputStream(p)) {
      byte[] magic = in.readNBytes(4);
      return magic.length == 4
          && magic[0] == 'P'
          && magic[1] == 'K'
          && magic[2] == 3
          && magic[3] == 4;
    }
  }

  private void inspectSafetensors() throws IOException {
    try (SafeTensorsFile f = SafeTensors.open(file)) {
      System.out.printf("%s: safetensors, %d tensors%n", file, f.names().size());
      if (!f.metadata().isEmpty()) {
        System.out.println("metadata:");
        f.metadata()
            .forEach((k, v) -> System.out.printf("  %s = %s%n", SafeText.of(k), abbreviate(v)));
      }
      long total = 0;
      for (String name : f.names()) {
        TensorInfo i = f.info(name);
        row(name, i.dtype().safetensorsName(), i.shape(), i.byteSize());
        total += i.byteSize();
      }
      System.out.printf("total %,d bytes%n", total);
    }
  }

  private void inspectPth() throws IOException {
    try (PthCheckpoint ckpt = PthReader.read(file)) {
      System.out.printf(
          "%s: torch.save zip; top-level keys %s%n",
          file, SafeText.of(String.valueOf(ckpt.topLevelKeys())));
      long[] total = {0, 0};
      walk("", ckpt.root(), total);
      System.out.printf("%d tensors, %,d bytes%n", total[0], total[1]);
    }
  }

  private void walk(String prefix, Object node, long[] total) {
    if (node instanceof PthTensor t) {
      long bytes = t.numel() * t.dtype().byteSize();
      row(
          prefix,
          t.dtype().safetensorsName() + (t.isParameter() ? " param" : ""),
          t.shape(),
          bytes);
      total[0]++;
      total[1] += bytes;
    } else if (node instanceof Map<?, ?> m) {
      m.forEach((k, v) -> walk(prefix.isEmpty() ? String.valueOf(k) : prefix + "." + k, v, total));
    } else if (node instanceof List<?> l && l.stream().anyMatch(InspectCommand::holdsTensors)) {
      for (int i = 0; i < l.size(); i++) {
        walk(prefix + "." + i, l.get(i), total);
      }
    } else {
      System.out.printf("  %-60s %s%n", SafeText.of(prefix), abbreviate(String.valueOf(node)));
    }
  }

  private static boolean holdsTensors(Object o) {
    return o instanceof PthTensor || o instanceof Map<?, ?> || o instanceof List<?>;
  }

  private static void row(String name, String dtype, long[] shape, long bytes) {
    System.out.printf(
        "  %-60s %-10s %-20s %,d%n", SafeText.of(name), dtype, Arrays.toString(shape), bytes);
  }

  private static String abbreviate(String s) {
    // names and values come from the file: escaped so they cannot drive the terminal
    return SafeText.of(s.length() > 120 ? s.substring(0, 117) + "..." : s);
  }
}
