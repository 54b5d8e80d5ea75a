package dev.rectok.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class ValueTypesTest {

  @Property
  void cudaDevicesRoundTripThroughTheirPyTorchSpelling(
      @ForAll @IntRange(min = 0, max = 99_999) int index) {
    Device d = Device.cuda(index);
    assertThat(d.toString()).isEqualTo("cuda:" + index);
    assertThat(Device.parse(d.toString())).isEqualTo(d);
  }

  @Test
  void parsesPyTorchDeviceSyntax() {
    assertThat(Device.parse("cpu")).isEqualTo(Device.CPU);
    assertThat(Device.parse(" cuda ")).isEqualTo(new Device(Device.Type.CUDA, -1));
    assertThat(Device.parse("cuda:3").index()).isEqualTo(3);
    assertThat(Device.parse("cuda:0").isCuda()).isTrue();
  }

  @Provide
  Arbitrary<String> junk() {
    return Arbitraries.oneOf(
        Arbitraries.strings().ofMaxLength(12),
        Arbitraries.of(
            "gpu",
            "cuda:",
            "cuda:-1",
            "cuda:x",
            "CUDA:0",
            "cpu:1",
            "cuda:0:1",
            "",
            "cuda:99999999999"));
  }

  @Property
  void deviceParserRejectsJunkWithAClearMessage(@ForAll("junk") String s) {
    try {
      Device d = Device.parse(s);
      assertThat(Device.parse(d.toString())).isEqualTo(d); // whatever it accepts is canonical
    } catch (IllegalArgumentException e) {
      assertThat(e.getMessage()).contains("invalid device").contains("PyTorch syntax");
    }
  }

  @Test
  void dtypesHaveStableCodesNamesAndSizes() {
    for (DType d : DType.values()) {
      assertThat(DType.fromCode(d.code())).isEqualTo(d);
      assertThat(DType.fromSafetensorsName(d.safetensorsName())).isEqualTo(d);
      assertThat(DType.parse(d.toString())).isEqualTo(d);
      assertThat(DType.parse(d.torchName())).isEqualTo(d);
    }
    assertThat(DType.parse("bf16")).isEqualTo(DType.BFLOAT16);
    assertThat(DType.BFLOAT16.byteSize()).isEqualTo(2);
    assertThat(DType.INT64.isFloatingPoint()).isFalse();
    assertThatThrownBy(() -> DType.parse("float8")).hasMessageContaining("unknown dtype 'float8'");
    assertThatThrownBy(() -> DType.fromSafetensorsName("F8_E4M3"))
        .hasMessageContaining("unsupported safetensors dtype");
  }

  @Test
  void runtimeInfoFormatsAlignedLines() {
    RuntimeInfo info = new RuntimeInfo("x", "1", 0, java.util.Map.of("a", "1"));
    assertThat(info.format()).isEqualTo("a  1" + System.lineSeparator());
  }

  @Test
  void flowDistillerSpecStatesWhatEachStageNeeds() {
    java.nio.file.Path run = java.nio.file.Path.of("run");
    java.nio.file.Path data = java.nio.file.Path.of("data");
    assertThatThrownBy(() -> FlowDistillerSpec.builder(run, data).build())
        .hasMessageContaining("stage 1 needs a teacher");
    assertThatThrownBy(
            () ->
                new FlowDistillerSpec(
                    run, data, null, 2, null, java.util.Map.of(), java.util.Map.of(), Device.CPU))
        .hasMessageContaining("stage 2 needs initFrom");
    assertThatThrownBy(
            () ->
                new FlowDistillerSpec(
                    run, data, null, 3, null, java.util.Map.of(), java.util.Map.of(), Device.CPU))
        .hasMessageContaining("stage must be 1 or 2");
    FlowDistillerSpec s =
        FlowDistillerSpec.builder(run, data)
            .teacher(data)
            .model("token_channels", 16)
            .training("epochs", 3)
            .build();
    assertThat(s.model()).containsEntry("token_channels", 16);
    assertThat(s.training()).containsEntry("epochs", 3);
    assertThat(FlowDistillerSpec.builder(run, data).stage2(data).build().stage()).isEqualTo(2);
  }

  @Property
  void trainingLimitsAcceptPositiveValuesOnly(
      @ForAll long steps, @ForAll @IntRange(min = -5, max = 5) int minutes) {
    if (steps < 1) {
      assertThatThrownBy(() -> TrainingLimits.none().withMaxSteps(steps))
          .hasMessageContaining("max steps");
    } else {
      assertThat(TrainingLimits.none().withMaxSteps(steps).maxSteps()).isEqualTo(steps);
    }
    if (minutes <= 0) {
      assertThatThrownBy(() -> TrainingLimits.none().withMaxMinutes(minutes))
          .hasMessageContaining("max time");
    } else {
      assertThat(TrainingLimits.none().withMaxMinutes(minutes).maxTime().toMinutes())
          .isEqualTo(minutes);
    }
  }
}
