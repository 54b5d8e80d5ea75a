package dev.rectok.torch.io;

import dev.rectok.image.AdmPreprocess;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Reads one hostile file in a child JVM with a small heap, so that a reader that buffers what a
 * file merely claims shows up as an OutOfMemoryError instead of passing under the test JVM's heap.
 * {@link #main} prints {@code REFUSED <message>} (exit 3) for an IOException, {@code OK} (exit 0)
 * when the file was read, and the throwable (exit 1) otherwise.
 */
final class ForkedReader {
  record Result(int code, String output) {}

  private ForkedReader() {}

  public static void main(String[] args) {
    Path file = Path.of(args[1]);
    try {
      switch (args[0]) {
        case "pth" -> {
          try (PthCheckpoint c = PthReader.read(file)) {
            c.root();
          }
        }
        case "safetensors" -> SafeTensors.open(file).close();
        case "image" -> AdmPreprocess.read(file); // the SDK's entry point for image files
        default -> throw new IllegalArgumentException(args[0]);
      }
      System.out.println("OK");
      System.exit(0);
    } catch (IOException e) {
      System.out.println("REFUSED " + e.getMessage());
      System.exit(3);
    } catch (Throwable t) {
      System.out.println("FAILED " + t);
      System.exit(1);
    }
  }

  /**
   * Runs {@link #main} on {@code file} under {@code -Xmx<heap>} with the given extra JVM options.
   */
  static Result run(String kind, Path file, String heap, long timeoutSeconds, String... jvmOptions)
      throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    LinkedHashSet<String> cp = new LinkedHashSet<>();
    for (String prop : new String[] {"jdk.module.path", "java.class.path"}) {
      String v = System.getProperty(prop);
      if (v != null && !v.isBlank()) {
        for (String e : v.split(File.pathSeparator)) {
          if (!e.isBlank()) {
            cp.add(e);
          }
        }
      }
    }
    // Under surefire's module mode the test classes are patched into the module, not on a path.
    for (String d : new String[] {"target/test-classes", "target/classes"}) {
      Path p = Path.of(d).toAbsolutePath();
      if (Files.isDirectory(p)) {
        cp.add(p.toString());
      }
    }
    List<String> cmd =
        new ArrayList<>(
            List.of(
                java,
                "-Xmx" + heap,
                "-XX:+UseSerialGC",
                "--enable-native-access=ALL-UNNAMED",
                "-Drectok.native.lib=" + System.getProperty("rectok.native.lib")));
    cmd.addAll(List.of(jvmOptions));
    cmd.addAll(
        List.of(
            "-cp",
            String.join(File.pathSeparator, cp),
            ForkedReader.class.getName(),
            kind,
            file.toString()));
    Path log = Files.createTempFile("forked-reader", ".log");
    try {
      Process p =
          new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor();
        return new Result(-1, "timed out after " + timeoutSeconds + " s: " + Files.readString(log));
      }
      return new Result(p.exitValue(), Files.readString(log));
    } finally {
      Files.deleteIfExists(log);
    }
  }
}
