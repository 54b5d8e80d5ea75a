package dev.rectok.models.dit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rectok.models.golden.GoldenCase;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Golden case 4: the DiT RoPE tables and the sincos {@code pos_embed} tables, every one the folder
 * lists.
 */
class DiTTablesTest {
  private static final double TOL = 1e-6;
  private static GoldenCase golden;

  @BeforeAll
  static void open() throws Exception {
    golden = GoldenCase.open(Path.of(System.getProperty("rectok.golden.dir"), "case4_tables"));
  }

  @AfterAll
  static void close() {
    golden.close();
  }

  private static void check(String name, Tensor actual) {
    GoldenCase.Comparison c = golden.compare(name, actual);
    System.out.println("[case4] " + c);
    assertThat(c.passes(TOL)).as(c.toString()).isTrue();
  }

  @Test
  void ditRopeTables() {
    JsonNode rope = golden.config().get("dit_rope");
    assertThat(rope.size()).isPositive();
    for (Map.Entry<String, JsonNode> e : rope.properties()) {
      int headDim = e.getValue().get("head_dim").asInt();
      int n = e.getValue().get("pt_seq_len").asInt();
      assertThat(e.getValue().get("dim_arg").asInt()).isEqualTo(headDim / 2);
      try (Scope s = Scope.open()) {
        check("table." + e.getKey() + ".freqs_cos", DiTTables.ropeCos(headDim, n));
        check("table." + e.getKey() + ".freqs_sin", DiTTables.ropeSin(headDim, n));
      }
    }
  }

  @Test
  void sincosPosEmbedTables() {
    JsonNode sincos = golden.config().get("sincos");
    assertThat(sincos.size()).isPositive();
    for (Map.Entry<String, JsonNode> e : sincos.properties()) {
      int dim = e.getValue().get("embed_dim").asInt();
      int grid = e.getValue().get("grid_size").asInt();
      try (Scope s = Scope.open()) {
        check("table." + e.getKey() + ".float32", DiTTables.sincosPosEmbedTensor(dim, grid));
        String f64 = "table." + e.getKey() + ".float64";
        if (golden.has(f64)) {
          check(f64, Tensor.of(DiTTables.sincosPosEmbed(dim, grid), (long) grid * grid, dim));
        }
      }
    }
  }

  @Test
  void sincosPutsTheColumnFirst() {
    // Token (h=0, w=1) moves only the first (column) half; token (h=1, w=0) only the second half.
    double[] t = DiTTables.sincosPosEmbed(8, 3);
    assertThat(t[8 * 1]).isEqualTo(Math.sin(1.0)); // (0, 1): sin(w * omega_0)
    assertThat(t[8 * 1 + 4]).isEqualTo(0.0); // (0, 1): sin(h * omega_0) with h = 0
    assertThat(t[8 * 3]).isEqualTo(0.0); // (1, 0): sin(w * omega_0) with w = 0
    assertThat(t[8 * 3 + 4]).isEqualTo(Math.sin(1.0)); // (1, 0): sin(h * omega_0)
  }
}
