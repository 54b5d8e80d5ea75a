package dev.rectok.train.classifier;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ClassifierConfigTest {

  @Test
  void anInvalidConfigNamesTheValuesGiven() {
    // the message used to print the record itself, whose fields are still 0 in its constructor
    assertThatThrownBy(() -> new ClassifierTrainer.Config(256, 0, 128, 1e-3, 0.01, 1.0, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("hidden 256, epochs 0, batch size 128")
        .hasMessageContaining("lr 0.001");
  }
}
