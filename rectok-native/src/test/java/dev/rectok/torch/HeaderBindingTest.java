package dev.rectok.torch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.api.DType;
import dev.rectok.torch.internal.NativeLibrary;
import dev.rectok.torch.internal.Shim;
import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The header is the single source of truth: the bindings the build generated from it ({@code
 * BindingGenerator}) must match an independent parse of it exactly.
 */
class HeaderBindingTest {
  private static String header;
  private static Map<String, FunctionDescriptor> bound;
  private static Map<String, Long> constants;

  @BeforeAll
  static void bindEverything() throws Exception {
    header =
        Files.readString(
            Path.of(System.getProperty("rectok.header", "../native/include/rectok_torch.h")));
    // Initialising each holder class binds its function (and fails if the symbol is missing).
    for (Class<?> holder : Shim.class.getDeclaredClasses()) {
      Class.forName(holder.getName(), true, holder.getClassLoader());
    }
    bound = NativeLibrary.boundSignatures();
    constants = new HashMap<>();
    for (Field f : Shim.class.getDeclaredFields()) {
      if (Modifier.isStatic(f.getModifiers())
          && f.getName().startsWith("RT_")
          && f.getType() == int.class) {
        constants.put(f.getName(), ((Integer) f.get(null)).longValue());
      }
    }
  }

  @Test
  void everyHeaderFunctionAndConstantIsBoundWithTheSameSignature() {
    HeaderCheck.Header h = HeaderCheck.parse(header);
    assertThat(h.functions()).hasSizeGreaterThan(100);
    assertThat(HeaderCheck.diff(h, bound, constants)).isEmpty();
  }

  @Test
  void dtypeCodesAreTheAbiCodes() {
    HeaderCheck.Header h = HeaderCheck.parse(header);
    Map<DType, String> names =
        Map.of(
            DType.FLOAT32,
            "RT_F32",
            DType.FLOAT64,
            "RT_F64",
            DType.FLOAT16,
            "RT_F16",
            DType.BFLOAT16,
            "RT_BF16",
            DType.INT64,
            "RT_I64",
            DType.INT32,
            "RT_I32",
            DType.INT16,
            "RT_I16",
            DType.INT8,
            "RT_I8",
            DType.UINT8,
            "RT_U8",
            DType.BOOL,
            "RT_BOOL");
    for (DType d : DType.values()) {
      assertThat(h.constants().get(names.get(d))).as(d.toString()).isEqualTo((long) d.code());
    }
  }

  @Test
  void theLoadedShimReportsTheHeadersAbiVersion() {
    assertThat((long) Torch.abiVersion())
        .isEqualTo(HeaderCheck.parse(header).constants().get("RT_ABI_VERSION"));
  }

  /** The check above must be able to fail: feed it headers that drifted from the bindings. */
  @Test
  void aDriftedHeaderIsCaught() throws IOException {
    record Mutation(String from, String to, String expect) {}
    List<Mutation> mutations =
        List.of(
            new Mutation(
                "rt_matmul(rt_ctx* ctx, rt_tensor* a, rt_tensor* b, rt_tensor** out)",
                "rt_matmul(rt_ctx* ctx, rt_tensor* a, rt_tensor* b, int32_t extra, rt_tensor** out)",
                "rt_matmul"),
            new Mutation(
                "rt_softmax(rt_ctx* ctx, rt_tensor* t, int64_t dim, rt_tensor** out)",
                "rt_softmax(rt_ctx* ctx, rt_tensor* t, int32_t dim, rt_tensor** out)",
                "rt_softmax"),
            new Mutation(
                "RT_API rt_status rt_relu(rt_ctx* ctx, rt_tensor* t, rt_tensor** out) RT_NOEXCEPT;",
                "RT_API rt_status rt_relu(rt_ctx* ctx, rt_tensor* t,\n    rt_tensor** out) RT_NOEXCEPT;",
                "rt_relu"),
            new Mutation(
                "RT_API void rt_noop(void) RT_NOEXCEPT;",
                "RT_API void rt_noop(void) RT_NOEXCEPT;\nRT_API rt_status rt_new_op(rt_ctx* ctx) RT_NOEXCEPT;",
                "rt_new_op"),
            new Mutation(
                "RT_API int64_t rt_live_tensors(void) RT_NOEXCEPT;\n", "", "rt_live_tensors"),
            new Mutation("#define RT_BF16 3", "#define RT_BF16 11", "RT_BF16"),
            new Mutation(
                "rt_item(rt_ctx* ctx, rt_tensor* t, double* out)",
                "rt_item(rt_ctx* ctx, rt_tensor* t, float out)",
                "rt_item"),
            new Mutation(
                "#define RT_INTERP_BICUBIC 2",
                "#define RT_INTERP_BICUBIC 2\n#define RT_INTERP_AREA 3",
                "RT_INTERP_AREA"));
    for (Mutation m : mutations) {
      assertThat(header).contains(m.from());
      String drifted = header.replace(m.from(), m.to());
      List<String> problems = HeaderCheck.diff(HeaderCheck.parse(drifted), bound, constants);
      assertThat(problems)
          .as("mutation %s", m.to())
          .isNotEmpty()
          .anyMatch(p -> p.contains(m.expect()));
    }
  }
}
