package dev.rectok.cli;

import dev.rectok.api.Backends;
import dev.rectok.api.RuntimeInfo;
import dev.rectok.api.spi.Backend;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code rectok doctor}: what runtime the SDK found, and what to fix. */
@Command(
    name = "doctor",
    description = "Print Java, native-access, shim, LibTorch, BLAS, thread and CUDA facts.")
final class DoctorCommand implements Callable<Integer> {

  @Override
  public Integer call() {
    Backend backend = Backends.load(); // found through the JPMS service, as an application would
    RuntimeInfo info = backend.runtimeInfo();
    System.out.println("rectok doctor (backend: " + info.backend() + ")");
    System.out.print(info.format());
    boolean ok =
        info.facts().get("native access").startsWith("enabled")
            && info.facts().get("BLAS").contains("openblas");
    System.out.println(ok ? "status: OK" : "status: WARN (see the lines above)");
    return 0;
  }
}
