/** Training: datasets, trainers and their run directories. Depends on the native backend. */
module dev.rectok.train {
  requires transitive dev.rectok.torch;
  requires transitive dev.rectok.generate;
  requires org.slf4j;
  requires com.fasterxml.jackson.databind;

  exports dev.rectok.train.data;
  exports dev.rectok.train.classifier;
  exports dev.rectok.train.loss;
  exports dev.rectok.train.metrics;
  exports dev.rectok.train.run;
  exports dev.rectok.train.loop;
  exports dev.rectok.train.tokenizer;
  exports dev.rectok.train.generator;
  exports dev.rectok.train.recipe;
  exports dev.rectok.train.teacher;
  // --- issue 14: data-parallel training ---
  exports dev.rectok.train.distributed;

  provides dev.rectok.api.spi.TrainerProvider with dev.rectok.train.TrainerService;
}
