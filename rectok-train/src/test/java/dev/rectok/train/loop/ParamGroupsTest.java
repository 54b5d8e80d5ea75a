package dev.rectok.train.loop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.models.tokenizer.RecTok;
import dev.rectok.models.tokenizer.RecTokConfig;
import dev.rectok.torch.nn.Parameter;
import dev.rectok.torch.optim.ParamGroup;
import dev.rectok.train.teacher.VitTeacher;
import dev.rectok.train.teacher.VitTeacherConfig;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ParamGroupsTest {

  @Test
  void referenceRuleOnTheStage1Tokenizer() {
    RecTokConfig cfg = RecTokConfig.rectokBBStage1().toBuilder().imgSize(64).build();
    try (RecTok tok = new RecTok(cfg)) {
      List<ParamGroup> groups = ParamGroups.reference(tok, 1e-4, 1e-4);
      Map<Parameter, String> names =
          tok.namedParameters().entrySet().stream()
              .collect(Collectors.toMap(Map.Entry::getValue, Map.Entry::getKey));
      Set<String> decay =
          groups.get(0).params().stream().map(names::get).collect(Collectors.toSet());
      Set<String> noDecay =
          groups.get(1).params().stream().map(names::get).collect(Collectors.toSet());
      // the quirks the reference spec names
      assertThat(noDecay)
          .contains(
              "encoder.patch_embed.0.weight",
              "decoder.mask_token",
              "encoder.positional_embedding",
              "decoder.decoder_embed.weight");
      assertThat(decay)
          .contains("encoder.transformer.0.attn.qkv.weight")
          .doesNotContain("decoder.mask_token");
      assertThat(decay.size() + noDecay.size()).isEqualTo(tok.namedParameters().size());
      assertThat(groups.get(0).weightDecay()).isEqualTo(1e-4);
      assertThat(groups.get(1).weightDecay()).isZero();
    }
  }

  @Test
  void frozenParametersAreLeftOut() {
    try (RecTok tok = new RecTok(RecTokConfig.rectokBB().toBuilder().imgSize(64).build())) {
      tok.encoder().requiresGrad_(false);
      long inGroups =
          ParamGroups.reference(tok, 1e-4, 1e-4).stream().mapToLong(g -> g.params().size()).sum();
      assertThat(inGroups).isEqualTo(tok.decoderModule().namedParameters().size());
    }
  }

  @Test
  void rankAndSubstringRule() {
    assertThat(ParamGroups.noWeightDecay("blocks.0.mlp.w12.weight", 2)).isFalse();
    assertThat(ParamGroups.noWeightDecay("blocks.0.mlp.w12.bias", 1)).isTrue();
    assertThat(ParamGroups.noWeightDecay("x_embedder.proj.weight", 4)).isTrue();
    assertThat(ParamGroups.noWeightDecay("scale", 0)).isTrue();
  }

  @Test
  void theClassifiersUseTheReferenceRuleToo() {
    VitTeacherConfig m =
        VitTeacherConfig.builder().imgSize(16).width(16).depth(1).heads(2).numClasses(3).build();
    try (VitTeacher teacher = new VitTeacher(m, 0)) {
      List<ParamGroup> groups = ParamGroups.reference(teacher, 1e-3, 0.05);
      Map<String, Parameter> named = teacher.namedParameters();
      // before one rule, the teacher decayed these three (rank >= 2) although the reference's names
      // exempt them
      for (String exempt : List.of("patch_embed.weight", "cls_token", "pos_embed")) {
        assertThat(named.get(exempt).data().dim()).isGreaterThanOrEqualTo(2);
        assertThat(groups.get(1).params()).contains(named.get(exempt));
        assertThat(groups.get(0).params()).doesNotContain(named.get(exempt));
      }
      assertThat(groups.get(0).params()).contains(named.get("head.weight"));
      assertThat(groups.get(0).weightDecay()).isEqualTo(0.05);
      assertThat(groups.get(1).weightDecay()).isZero();
      assertThat(groups.get(0).lr()).isEqualTo(1e-3);
    }
  }
}
