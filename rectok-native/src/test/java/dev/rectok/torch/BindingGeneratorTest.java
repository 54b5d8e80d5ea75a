package dev.rectok.torch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.torch.gen.BindingGenerator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The generator that turns {@code native/include/rectok_torch.h} into {@code Shim} and {@code Ops}:
 * a header line is enough for a new op, lines outside the grammar stop the build, and functions
 * that need more than a wrapper get none. {@link HeaderBindingTest} checks the compiled result
 * against an independent parse of the header.
 */
class BindingGeneratorTest {
  private static String header;

  @BeforeAll
  static void readHeader() throws IOException {
    header =
        Files.readString(
            Path.of(System.getProperty("rectok.header", "../native/include/rectok_torch.h")));
  }

  private static String shim(String text) {
    return BindingGenerator.generate(text).get("dev/rectok/torch/internal/Shim.java");
  }

  private static String ops(String text) {
    return BindingGenerator.generate(text).get("dev/rectok/torch/Ops.java");
  }

  @Test
  void theBuildCompiledWhatTheGeneratorMakesOfTheHeader() throws IOException {
    Path root =
        Path.of(System.getProperty("rectok.generated", "target/generated-sources/bindings"));
    for (Map.Entry<String, String> e : BindingGenerator.generate(header).entrySet()) {
      assertThat(Files.readString(root.resolve(e.getKey()))).as(e.getKey()).isEqualTo(e.getValue());
    }
  }

  @Test
  void aHeaderLineIsEnoughForANewOp() {
    String added =
        header.replace(
            "RT_API void rt_noop(void) RT_NOEXCEPT;",
            "RT_API void rt_noop(void) RT_NOEXCEPT;\n"
                + "RT_API rt_status rt_new_op(rt_ctx* ctx, rt_tensor* t, const int64_t* dims, int64_t ndim, double x, "
                + "rt_tensor** out) RT_NOEXCEPT;");
    assertThat(shim(header)).doesNotContain("rt_new_op");
    assertThat(shim(added))
        .contains("public static final class rt_new_op {")
        .contains("bind(\"rt_new_op\", FunctionDescriptor.of(I, P, H, P, L, D, P));");
    assertThat(ops(added))
        .contains("static Tensor newOp(Tensor t, long[] dims, double x) {")
        .contains(
            "Shim.rt_new_op.MH.invokeExact(f.ctx, Call.opt(t), dimsSeg, (long) dims.length, x, f.out)");
  }

  @Test
  void everyFunctionAndConstantOfTheHeaderIsGeneratedOnce() {
    String shim = shim(header);
    BindingGenerator.Header h = BindingGenerator.parse(header);
    assertThat(h.functions()).hasSizeGreaterThan(100);
    for (BindingGenerator.Function fn : h.functions()) {
      assertThat(
              Pattern.compile("public static final class " + fn.name() + " \\{")
                  .matcher(shim)
                  .results()
                  .count())
          .as(fn.name())
          .isEqualTo(1);
    }
    for (var c : h.constants().entrySet()) {
      assertThat(shim)
          .contains("public static final int " + c.getKey() + " = " + c.getValue() + ";");
    }
  }

  @Test
  void functionsThatNeedMoreThanAWrapperGetNone() {
    String ops = ops(header);
    // host buffers, scalar outputs, several outputs, (buffer, capacity) outputs, handles without
    // ctx
    for (String name :
        new String[] {
          "rt_from_data",
          "rt_copy_to_host",
          "rt_item",
          "rt_equal",
          "rt_max_dim",
          "rt_split_with_sizes",
          "rt_tensor_meta",
          "rt_adamw_step",
          "rt_tensor_free",
          "rt_abi_version"
        }) {
      assertThat(ops).as(name).doesNotContain("Shim." + name + ".MH");
    }
    assertThat(ops)
        .contains(
            "static Tensor layerNorm(Tensor input, long[] normalizedShape, Tensor weight, Tensor bias,"
                + " double eps) {");
    assertThat(ops).contains("static Tensor cat(Tensor[] tensors, long dim) {");
    assertThat(ops)
        .contains("static void addcmul_(Tensor self, Tensor t1, Tensor t2, double value) {");
  }

  @Test
  void linesOutsideTheGrammarStopTheGeneratorWithTheLineNamed() {
    String split =
        header.replace(
            "RT_API rt_status rt_relu(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;",
            "RT_API rt_status rt_relu(rt_ctx* ctx, rt_tensor* t,\n    rt_tensor** out) RT_NOEXCEPT;");
    assertThat(split).isNotEqualTo(header);
    assertThatThrownBy(() -> BindingGenerator.generate(split))
        .isInstanceOf(BindingGenerator.GrammarException.class)
        .hasMessageContaining("rt_relu")
        .hasMessageMatching("line \\d+: .*");
    String badType =
        header.replace(
            "rt_item(rt_ctx* ctx, rt_tensor* t, double* out)",
            "rt_item(rt_ctx* ctx, rt_tensor* t, float out)");
    assertThatThrownBy(() -> BindingGenerator.generate(badType)).hasMessageContaining("'float'");
    String unnamed =
        header.replace(
            "rt_neg(rt_ctx* ctx, rt_tensor* t, rt_tensor** out)",
            "rt_neg(rt_ctx* ctx, rt_tensor*, rt_tensor** out)");
    assertThatThrownBy(() -> BindingGenerator.generate(unnamed))
        .hasMessageContaining("without a type and a name");
  }

  @Test
  void hostBufferFunctionsAreBoundCriticalAndParameterlessOnesTrivial() {
    String shim = shim(header);
    assertThat(shim)
        .contains("bind(\"rt_copy_to_host\", FunctionDescriptor.of(I, P, H, P, L), HEAP);")
        .contains("bind(\"rt_live_tensors\", FunctionDescriptor.of(L), TRIVIAL);")
        .contains("bind(\"rt_tensor_free\", FunctionDescriptor.ofVoid(H));");
  }
}
