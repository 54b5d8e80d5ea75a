package dev.rectok.generate.golden;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.io.HostTensor;
import dev.rectok.torch.io.SafeTensors;
import dev.rectok.torch.io.SafeTensorsFile;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A case3b folder recorded with {@code sampling.store_trajectory: false} holds {@code
 * output.state_after_step1_no_guidance} and no trajectory; check-golden must replay what the folder
 * says it holds.
 */
class StoreTrajectoryTest {
  private static final Path CASE3B =
      Path.of(System.getProperty("rectok.golden.dir"), "case3b_dit_sampling");
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void aFolderRecordedWithoutTheTrajectoryPasses(@TempDir Path tmp) throws IOException {
    Path dir = tmp.resolve("case3b_dit_sampling");
    Files.createDirectories(dir);
    for (String f : List.of("README.md", "weights.pth", "guide_weights.pth")) {
      Files.copy(CASE3B.resolve(f), dir.resolve(f));
    }
    ObjectNode config = (ObjectNode) JSON.readTree(CASE3B.resolve("config.json").toFile());
    ((ObjectNode) config.get("sampling")).put("store_trajectory", false);
    JSON.writeValue(dir.resolve("config.json").toFile(), config);
    try (SafeTensorsFile io = SafeTensors.open(CASE3B.resolve("io.safetensors"));
        Arena arena = Arena.ofConfined();
        Tensor trajectory = Tensor.fromHost(io.get("output.trajectory_no_guidance"));
        Tensor step1 = trajectory.select(0, 1).contiguous()) {
      Map<String, HostTensor> tensors = new LinkedHashMap<>();
      for (String n : io.names()) {
        if (!n.equals("output.trajectory_no_guidance")) {
          tensors.put(n, io.get(n));
        }
      }
      tensors.put("output.state_after_step1_no_guidance", step1.toHost(arena));
      SafeTensors.write(dir.resolve("io.safetensors"), tensors, io.metadata());
    }

    GoldenReplay.Result r = GoldenReplay.run(dir);

    assertThat(r.checks())
        .extracting(GoldenReplay.Check::name)
        .contains("output.state_after_step1_no_guidance")
        .doesNotContain("output.trajectory_no_guidance");
    assertThat(r.unsupported()).isEmpty();
    assertThat(r.checks()).allMatch(GoldenReplay.Check::passed);
    assertThat(r.passed()).isTrue();
  }
}
