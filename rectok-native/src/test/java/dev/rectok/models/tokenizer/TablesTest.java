package dev.rectok.models.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.models.golden.GoldenCase;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Golden case 4: the tokenizer RoPE tables ({@code table.tok_rope_hd<D>_<h>x<w>}) within 1e-6. */
class TablesTest {
  private static final Pattern NAME = Pattern.compile("table\\.tok_rope_hd(\\d+)_(\\d+)x(\\d+)");

  @Test
  void tokenizerRopeTablesMatchTheReference() throws IOException {
    Path dir = Path.of(System.getProperty("rectok.golden.dir")).resolve("case4_tables");
    int checked = 0;
    try (GoldenCase golden = GoldenCase.open(dir);
        Scope s = Scope.open()) {
      for (String n : golden.names()) {
        Matcher m = NAME.matcher(n);
        if (!m.matches()) {
          continue;
        }
        Tensor t =
            TokenizerRope.table(
                Integer.parseInt(m.group(1)),
                Integer.parseInt(m.group(2)),
                Integer.parseInt(m.group(3)));
        GoldenCase.Comparison c = golden.compare(n, t);
        System.out.println("case4 " + c);
        assertThat(c.passes(1e-6)).as(c.toString()).isTrue();
        checked++;
      }
    }
    assertThat(checked).isEqualTo(4);
  }

  @Test
  void rotateHalfPairsAdjacentChannels() {
    try (Scope s = Scope.open()) {
      // With cos = 0 and sin = 1 the rotary embedding is rotate_half itself.
      Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 1, 1, 1, 4);
      Tensor rope = Tensor.of(new float[] {0, 0, 0, 0, 1, 1, 1, 1}, 1, 1, 8);
      assertThat(TokenizerRope.apply(x, rope).toFloatArray()).containsExactly(-2, 1, -4, 3);
    }
  }
}
