/** Training: datasets, trainers and their run directories. Depends on the native backend. */
module dev.rectok.train {
  requires transitive dev.rectok.torch;
  requires org.slf4j;
  requires com.fasterxml.jackson.databind;

  exports dev.rectok.train.data;
  exports dev.rectok.train.classifier;
  exports dev.rectok.train.loss;
  exports dev.rectok.train.run;
  exports dev.rectok.train.teacher;
}
