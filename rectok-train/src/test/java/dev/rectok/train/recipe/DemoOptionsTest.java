package dev.rectok.train.recipe;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code rectok demo --quick} is the demo's evaluation made smaller, nothing else. */
class DemoOptionsTest {

  @Test
  void quickIsASmallerDemoWithTheSameGuidance() {
    DemoEvaluation.Options demo = DemoEvaluation.Options.demo();
    DemoEvaluation.Options quick = DemoEvaluation.Options.quick();
    assertThat(quick.testImages()).isEqualTo(200).isLessThan(demo.testImages());
    assertThat(quick.probeTrain()).isEqualTo(500).isLessThan(demo.probeTrain());
    assertThat(quick.generatedPerClass()).isEqualTo(10).isLessThan(demo.generatedPerClass());
    assertThat(quick.gridPoints()).isEqualTo(17).isLessThan(demo.gridPoints());
    assertThat(quick.guidanceScale()).isEqualTo(demo.guidanceScale());
    assertThat(quick.withSeed(7).seed()).isEqualTo(7);
  }
}
