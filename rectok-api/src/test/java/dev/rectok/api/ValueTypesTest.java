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
  void cudaDevicesRoundTripThroughTheirPyTorchSpelling(@ForAll @IntRange(min = 0, max = 99_999) int index) {
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
    return Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(12),
        Arbitraries.of("gpu", "cuda:", "cuda:-1", "cuda:x", "CUDA:0", "cpu:1", "cuda:0:1", "", "cuda:99999999999"));
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
    assertThatThrownBy(() -> DType.fromSafetensorsName("F8_E4M3")).hasMessageContaining("unsupported safetensors dtype");
  }

  @Test
  void runtimeInfoFormatsAlignedLines() {
    RuntimeInfo info = new RuntimeInfo("x", "1", 0, java.util.Map.of("a", "1"));
    assertThat(info.format()).isEqualTo("a  1" + System.lineSeparator());
  }
}
