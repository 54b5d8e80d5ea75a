package dev.rectok.models.dinov3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.io.CheckpointFormatException;
import dev.rectok.torch.io.HostTensor;
import dev.rectok.torch.io.SafeTensors;
import dev.rectok.torch.nn.Init;
import dev.rectok.torch.nn.Parameter;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * Laws of the DINOv3 model and its weight layouts over small random architectures (widths, heads,
 * patch sizes, storage tokens, non-square grids): the transformers layout, the official layout and
 * the model file all give the same forward; the k bias is masked; RoPE is a rotation that leaves
 * the prefix tokens alone; and bad files fail with a reason.
 */
class DinoV3LayoutPropertyTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  static DinoV3Config config(int heads, int quads, int depth, int patch, int storage) {
    return new DinoV3Config(
        patch,
        3,
        100.0,
        Double.NaN,
        Double.NaN,
        "separate",
        heads * quads * 4,
        depth,
        heads,
        4.0,
        true,
        true,
        true,
        1e-5,
        1e-5,
        storage,
        true);
  }

  /**
   * Every parameter random (not the official init, whose zero biases and 1e-5 LayerScale would hide
   * mistakes).
   */
  static DinoV3 randomModel(DinoV3Config c, long seed) {
    DinoV3 m = new DinoV3(c);
    try (TorchGenerator g = TorchGenerator.cpu(seed);
        GradMode gm = GradMode.noGrad()) {
      for (Parameter p : m.parameters()) {
        Init.normal_(p.data(), 0, 0.3, g);
      }
    }
    return m;
  }

  /** The transformers layout of a model: q/k/v split, the k bias dropped (it is masked anyway). */
  static Map<String, HostTensor> transformersLayout(DinoV3 m, Arena arena) {
    Map<String, Tensor> sd = m.stateDict();
    long d = m.config().embedDim();
    Map<String, HostTensor> out = new LinkedHashMap<>();
    try (Scope s = Scope.open()) {
      out.put("embeddings.cls_token", sd.get("cls_token").toHost(arena));
      out.put("embeddings.mask_token", sd.get("mask_token").reshape(1, 1, d).toHost(arena));
      if (sd.containsKey("storage_tokens")) {
        out.put("embeddings.register_tokens", sd.get("storage_tokens").toHost(arena));
      }
      out.put(
          "embeddings.patch_embeddings.weight", sd.get("patch_embed.proj.weight").toHost(arena));
      out.put("embeddings.patch_embeddings.bias", sd.get("patch_embed.proj.bias").toHost(arena));
      for (int i = 0; i < m.config().depth(); i++) {
        String b = "blocks." + i + ".";
        String l = "layer." + i + ".";
        Tensor w = sd.get(b + "attn.qkv.weight");
        Tensor bias = sd.get(b + "attn.qkv.bias");
        String[] qkv = {"q", "k", "v"};
        for (int j = 0; j < 3; j++) {
          out.put(
              l + "attention." + qkv[j] + "_proj.weight",
              w.narrow(0, j * d, d).contiguous().toHost(arena));
          if (j != 1) {
            out.put(
                l + "attention." + qkv[j] + "_proj.bias",
                bias.narrow(0, j * d, d).contiguous().toHost(arena));
          }
        }
        Map<String, String> names =
            Map.of(
                "norm1.weight",
                "norm1.weight",
                "norm1.bias",
                "norm1.bias",
                "norm2.weight",
                "norm2.weight",
                "norm2.bias",
                "norm2.bias",
                "attn.proj.weight",
                "attention.o_proj.weight",
                "attn.proj.bias",
                "attention.o_proj.bias",
                "ls1.gamma",
                "layer_scale1.lambda1",
                "ls2.gamma",
                "layer_scale2.lambda1");
        names.forEach((ours, theirs) -> out.put(l + theirs, sd.get(b + ours).toHost(arena)));
        out.put(l + "mlp.up_proj.weight", sd.get(b + "mlp.fc1.weight").toHost(arena));
        out.put(l + "mlp.up_proj.bias", sd.get(b + "mlp.fc1.bias").toHost(arena));
        out.put(l + "mlp.down_proj.weight", sd.get(b + "mlp.fc2.weight").toHost(arena));
        out.put(l + "mlp.down_proj.bias", sd.get(b + "mlp.fc2.bias").toHost(arena));
      }
      out.put("norm.weight", sd.get("norm.weight").toHost(arena));
      out.put("norm.bias", sd.get("norm.bias").toHost(arena));
    }
    return out;
  }

  @Property(tries = 12)
  void allLayoutsGiveTheSameForward(
      @ForAll @IntRange(min = 1, max = 3) int heads,
      @ForAll @IntRange(min = 1, max = 2) int quads,
      @ForAll @IntRange(min = 1, max = 2) int depth,
      @ForAll @IntRange(min = 2, max = 6) int patch,
      @ForAll @IntRange(min = 0, max = 4) int storage,
      @ForAll @IntRange(min = 1, max = 4) int gh,
      @ForAll @IntRange(min = 1, max = 4) int gw,
      @ForAll @IntRange(min = 0, max = 3) int extra)
      throws IOException {
    DinoV3Config c = config(heads, quads, depth, patch, storage);
    Path dir = Files.createTempDirectory("dinov3");
    try (DinoV3 m = randomModel(c, heads * 31L + patch);
        Arena arena = Arena.ofConfined();
        Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(7)) {
      Path hf = dir.resolve("model.safetensors");
      SafeTensors.write(hf, transformersLayout(m, arena), null);
      Path ours = dir.resolve("teacher.safetensors");
      DinoV3Weights.save(m, ours);
      // pixels beyond whole patches are dropped by the patch convolution
      Tensor px =
          Tensor.randn(
              new long[] {
                2, 3, (long) gh * patch + extra % patch, (long) gw * patch + extra % patch
              },
              g,
              DType.FLOAT32,
              Device.CPU);
      try (DinoV3.Features want = m.forwardFeatures(px);
          DinoV3 fromHf = DinoV3Weights.load(hf, c);
          DinoV3 fromFile = DinoV3Weights.load(ours, null)) {
        int prefix = 1 + storage;
        assertThat(want.lastHiddenState().shape())
            .containsExactly(2, prefix + (long) gh * gw, c.embedDim());
        assertThat(want.xNormPatchTokens().shape())
            .containsExactly(2, (long) gh * gw, c.embedDim());
        assertThat(fromFile.config()).isEqualTo(c);
        for (DinoV3 other : new DinoV3[] {fromHf, fromFile}) {
          try (DinoV3.Features got = other.forwardFeatures(px)) {
            assertThat(got.lastHiddenState().equal(want.lastHiddenState())).isTrue();
            assertThat(got.xPrenorm().equal(want.xPrenorm())).isTrue();
          }
        }
        assertThat(want.lastHiddenState().requiresGrad()).isFalse();
        assertThat(m.parameters()).noneMatch(Parameter::requiresGrad);
      }
    } finally {
      try (var files = Files.list(dir)) {
        for (Path p : files.toList()) {
          Files.delete(p);
        }
      }
      Files.delete(dir);
    }
  }

  @Property(tries = 10)
  void theKBiasIsMaskedOut(
      @ForAll @IntRange(min = 1, max = 2) int heads,
      @ForAll @IntRange(min = 1, max = 3) int gh,
      @ForAll @IntRange(min = 1, max = 3) int gw) {
    DinoV3Config c = config(heads, 1, 1, 4, 4);
    try (DinoV3 a = randomModel(c, 3);
        DinoV3 b = randomModel(c, 3);
        Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(1)) {
      long d = c.embedDim();
      try (GradMode gm = GradMode.noGrad()) {
        b.stateDict().get("blocks.0.attn.qkv.bias").narrow(0, d, d).fill_(123.0);
      }
      Tensor px = Tensor.randn(new long[] {1, 3, gh * 4L, gw * 4L}, g, DType.FLOAT32, Device.CPU);
      try (DinoV3.Features fa = a.forwardFeatures(px);
          DinoV3.Features fb = b.forwardFeatures(px)) {
        assertThat(fa.lastHiddenState().equal(fb.lastHiddenState())).isTrue();
      }
    }
  }

  @Property(tries = 20)
  void ropeIsARotationOfThePatchTokensOnly(
      @ForAll @IntRange(min = 1, max = 4) int quads,
      @ForAll @IntRange(min = 1, max = 5) int h,
      @ForAll @IntRange(min = 1, max = 5) int w,
      @ForAll @IntRange(min = 0, max = 5) int prefix) {
    DinoV3Config c = config(1, quads, 1, 16, 4);
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(quads * 100L + h * 10L + w)) {
      Tensor periods = DinoV3Rope.periods(c);
      try (DinoV3Rope.Tables t = DinoV3Rope.tables(c, periods, h, w)) {
        long d = c.headDim();
        assertThat(t.sin().shape()).containsExactly((long) h * w, d);
        Tensor x =
            Tensor.randn(new long[] {2, 1, prefix + (long) h * w, d}, g, DType.FLOAT32, Device.CPU);
        Tensor y = DinoV3Rope.apply(x, t);
        assertThat(y.narrow(2, 0, prefix).equal(x.narrow(2, 0, prefix))).isTrue();
        // rotate-half pairs channel i with i + d/2: each pair's norm is preserved
        Tensor nx = x.narrow(3, 0, d / 2).pow(2).add(x.narrow(3, d / 2, d / 2).pow(2));
        Tensor ny = y.narrow(3, 0, d / 2).pow(2).add(y.narrow(3, d / 2, d / 2).pow(2));
        assertThat(ny.sub(nx).abs().max().item()).isLessThan(1e-4 * Math.max(1, nx.max().item()));
      }
    }
  }

  @Test
  void periodsAreRecomputedAndCheckedAgainstTheStoredBuffer() throws IOException {
    DinoV3Config c = config(1, 2, 1, 4, 4);
    Path dir = Files.createTempDirectory("dinov3");
    try (DinoV3 m = randomModel(c, 5);
        Arena arena = Arena.ofConfined();
        Scope s = Scope.open()) {
      assertThat(m.stateDict().get("rope_embed.periods").toFloatArray())
          .containsExactly(1f, 10f); // 100^(2i/4), i = 0, 1
      Map<String, HostTensor> official = new LinkedHashMap<>();
      m.stateDict().forEach((k, v) -> official.put(k, v.toHost(arena)));
      Path ok = dir.resolve("official.safetensors");
      SafeTensors.write(ok, official, null);
      try (DinoV3 back = DinoV3Weights.load(ok, null)) {
        assertThat(back.config()).isEqualTo(c); // heads from the periods' length
      }
      official.put("rope_embed.periods", Tensor.of(new float[] {1f, 7f}, 2).toHost(arena));
      Path bad = dir.resolve("bad.safetensors");
      SafeTensors.write(bad, official, null);
      assertThatThrownBy(() -> DinoV3Weights.load(bad, null))
          .isInstanceOf(CheckpointFormatException.class)
          .hasMessageContaining("rope_embed.periods");
      official.put("rope_embed.periods", m.stateDict().get("rope_embed.periods").toHost(arena));
      official.remove("norm.bias");
      Path missing = dir.resolve("missing.safetensors");
      SafeTensors.write(missing, official, null);
      assertThatThrownBy(() -> DinoV3Weights.load(missing, c))
          .isInstanceOf(CheckpointFormatException.class)
          .hasMessageContaining("norm.bias");
      Path other = dir.resolve("other.safetensors");
      SafeTensors.write(other, Map.of("w", Tensor.zeros(2).toHost(arena)), null);
      assertThatThrownBy(() -> DinoV3Weights.load(other, null))
          .isInstanceOf(CheckpointFormatException.class)
          .hasMessageContaining("embeddings.cls_token");
    }
  }

  @Test
  void aTransformersConfigJsonNextToTheWeightsGivesTheArchitecture() throws IOException {
    DinoV3Config c = config(3, 2, 2, 8, 2); // width 24, 3 heads: not a released width
    Path dir = Files.createTempDirectory("dinov3-hf");
    try (DinoV3 m = randomModel(c, 9);
        Arena arena = Arena.ofConfined();
        Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(2)) {
      Path hf = dir.resolve("model.safetensors");
      SafeTensors.write(hf, transformersLayout(m, arena), null);
      assertThatThrownBy(() -> DinoV3Weights.load(hf, null))
          .isInstanceOf(CheckpointFormatException.class)
          .hasMessageContaining("give the configuration explicitly");
      ObjectNode j =
          JSON.createObjectNode()
              .put("model_type", "dinov3_vit")
              .put("hidden_size", 24)
              .put("num_attention_heads", 3)
              .put("num_hidden_layers", 2)
              .put("intermediate_size", 96)
              .put("patch_size", 8)
              .put("num_register_tokens", 2)
              .put("rope_theta", 100.0)
              .put("layer_norm_eps", 1e-5)
              .put("layerscale_value", 1.0)
              .put("key_bias", false)
              .put("use_gated_mlp", false);
      Files.writeString(dir.resolve("config.json"), j.toString());
      Tensor px = Tensor.randn(new long[] {1, 3, 16, 24}, g, DType.FLOAT32, Device.CPU);
      try (DinoV3 back = DinoV3Weights.load(hf, null);
          DinoV3.Features a = back.forwardFeatures(px);
          DinoV3.Features b = m.forwardFeatures(px)) {
        assertThat(back.config().numHeads()).isEqualTo(3);
        assertThat(a.lastHiddenState().equal(b.lastHiddenState())).isTrue();
      }
      Files.writeString(dir.resolve("config.json"), j.put("use_gated_mlp", true).toString());
      assertThatThrownBy(() -> DinoV3Weights.load(hf, null)).hasMessageContaining("use_gated_mlp");
    } finally {
      try (var files = Files.list(dir)) {
        for (Path p : files.toList()) {
          Files.delete(p);
        }
      }
      Files.delete(dir);
    }
  }

  @Test
  void aMissingFileNamesBothPublishedFiles() {
    assertThatThrownBy(() -> DinoV3Weights.load(Path.of("no/such/dinov3.pth"), null))
        .isInstanceOf(NoSuchFileException.class)
        .hasMessageContaining("dinov3_vitl16_pretrain_lvd1689m-8aa4cbdd.pth")
        .hasMessageContaining("model.safetensors")
        .hasMessageContaining("facebook/dinov3-vitl16-pretrain-lvd1689m");
  }

  @Property(tries = 30)
  void constructorKwargsRoundTrip(
      @ForAll @IntRange(min = 1, max = 16) int heads,
      @ForAll @IntRange(min = 1, max = 8) int quads,
      @ForAll @IntRange(min = 1, max = 24) int depth,
      @ForAll @IntRange(min = 1, max = 32) int patch,
      @ForAll @IntRange(min = 0, max = 8) int storage) {
    DinoV3Config c = config(heads, quads, depth, patch, storage);
    assertThat(DinoV3Config.fromConstructorKwargs(c.toConstructorKwargs())).isEqualTo(c);
  }

  @Test
  void presetsAndRefusals() {
    DinoV3Config l = DinoV3Config.preset("dinov3_vitl16");
    assertThat(l.embedDim()).isEqualTo(1024);
    assertThat(l.depth()).isEqualTo(24);
    assertThat(l.headDim()).isEqualTo(64);
    assertThat(l.ffnHidden()).isEqualTo(4096);
    assertThat(DinoV3Config.preset("dinov3_vits16").numHeads()).isEqualTo(6);
    assertThat(DinoV3Config.preset("dinov3_vitb16").embedDim()).isEqualTo(768);
    ObjectNode kw = l.toConstructorKwargs();
    for (String[] bad :
        new String[][] {
          {"ffn_layer", "swiglu"},
          {"norm_layer", "rmsnorm"},
          {"pos_embed_rope_dtype", "bf16"},
          {"no_such_argument", "1"}
        }) {
      ObjectNode k = kw.deepCopy().put(bad[0], bad[1]);
      assertThatThrownBy(() -> DinoV3Config.fromConstructorKwargs(k))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(bad[0].equals("no_such_argument") ? "no_such_argument" : bad[1]);
    }
    assertThatThrownBy(() -> DinoV3Config.fromConstructorKwargs(kw.deepCopy().put("num_heads", 12)))
        .hasMessageContaining("multiple of 4 * num_heads");
    assertThatThrownBy(() -> DinoV3Config.preset("dinov3_vit7b16"))
        .hasMessageContaining("dinov3_vitl16");
    // training-only augmentations are accepted and ignored
    assertThat(
            DinoV3Config.fromConstructorKwargs(
                kw.deepCopy().put("pos_embed_rope_rescale_coords", 2)))
        .isEqualTo(l);
    assertThat(JSON.valueToTree(kw).get("norm_layer").asText()).isEqualTo("layernormbf16");
  }
}
