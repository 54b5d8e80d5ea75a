module dev.rectok.torch {
  requires transitive dev.rectok.api;
  requires com.fasterxml.jackson.databind;
  requires org.slf4j;

  exports dev.rectok.torch.io;
}
