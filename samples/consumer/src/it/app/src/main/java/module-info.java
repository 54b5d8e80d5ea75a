module com.example.app {
  requires dev.rectok.api;          // Backends, Tokenizer, Generator, ...
  requires dev.rectok.demomodels;   // only for the demo models' resource names
}
