/** Training: datasets, trainers and their run directories. Depends on the native backend. */
@SuppressWarnings("module") // the qualified exports name modules built after this one
module dev.rectok.train {
  requires transitive dev.rectok.torch;
  requires transitive dev.rectok.generate;
  requires transitive com.fasterxml.jackson.databind; // configs are JsonNode in public signatures

  // issue 9: what applications use; the loop, run directory, losses and classifier stay internal
  // (Jackson still reads and writes their records: configs, run state).
  exports dev.rectok.train.data;
  exports dev.rectok.train.tokenizer;
  exports dev.rectok.train.generator;
  exports dev.rectok.train.teacher;
  exports dev.rectok.train.recipe to
      dev.rectok.cli,
      com.fasterxml.jackson.databind;
  exports dev.rectok.train.metrics to
      dev.rectok.cli,
      com.fasterxml.jackson.databind;
  exports dev.rectok.train.classifier to
      com.fasterxml.jackson.databind;
  exports dev.rectok.train.loss to
      com.fasterxml.jackson.databind;
  exports dev.rectok.train.loop to
      com.fasterxml.jackson.databind;
  exports dev.rectok.train.run to
      com.fasterxml.jackson.databind;
  // --- issue 14: data-parallel training ---
  exports dev.rectok.train.distributed;

  provides dev.rectok.api.spi.TrainerProvider with
      dev.rectok.train.TrainerService;
}
