package dev.rectok.train.generator;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.models.dit.DiTConfig;
import java.util.List;

/**
 * Writes a {@link DiTConfig} as the reference's constructor keyword arguments, the inverse of
 * {@link DiTConfig#fromConstructorKwargs}: what a generator model file stores under
 * {@code rectok.config} and what {@link GeneratorTrainingConfig} stores under {@code model}.
 * Stateless; thread-safe.
 */
final class DiTConfigJson {
  private DiTConfigJson() {}

  /** {@code {"img_size": ..., "patch_size": [s, x], ...}}: every argument, so no default is assumed. */
  static ObjectNode kwargs(DiTConfig c) {
    ObjectNode k = JsonNodeFactory.instance.objectNode();
    k.put("img_size", c.imgSize());
    pair(k, "patch_size", c.patchSize());
    k.put("tokenizer_patch_size", c.tokenizerPatchSize());
    k.put("token_channels", c.tokenChannels());
    pair(k, "hidden_size", c.hiddenSize());
    pair(k, "depth", c.depth());
    pair(k, "num_heads", c.numHeads());
    k.put("force_one_d_seq", c.forceOneDSeq());
    k.put("mlp_ratio", c.mlpRatio());
    k.put("label_dropout_prob", c.labelDropoutProb());
    k.put("num_classes", c.numClasses());
    k.put("use_qknorm", c.useQknorm());
    k.put("use_swiglu", c.useSwiglu());
    k.put("use_rope", c.useRope());
    k.put("use_rmsnorm", c.useRmsnorm());
    k.put("wo_shift", c.woShift());
    k.put("use_pos_embed", c.usePosEmbed());
    k.put("sampling_method", c.samplingMethod());
    k.put("num_sampling_steps", c.numSamplingSteps());
    return k;
  }

  /** The model-file form: {@code {"constructor_kwargs": {...}}}. */
  static ObjectNode modelFileConfig(DiTConfig c) {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.set("constructor_kwargs", kwargs(c));
    return o;
  }

  private static void pair(ObjectNode k, String name, List<Integer> v) {
    ArrayNode a = k.putArray(name);
    v.forEach(a::add);
  }
}
