/** The {@code rectok} command line (run it with {@code bin/rectok}). */
module dev.rectok.cli {
  requires dev.rectok.train;
  requires dev.rectok.generate;
  requires info.picocli;
  requires com.fasterxml.jackson.databind;

  opens dev.rectok.cli to
      info.picocli;
}
