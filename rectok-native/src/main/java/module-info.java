/**
 * The LibTorch backend: tensors, autograd, {@code nn} modules, optimizers and safe checkpoint IO,
 * bound to the C shim {@code librectok_torch.so} through the Foreign Function &amp; Memory API.
 *
 * <p>Run with {@code --enable-native-access=dev.rectok.torch} (or {@code ALL-UNNAMED} on the class
 * path).
 */
@SuppressWarnings("module") // the qualified exports name modules built after this one
module dev.rectok.torch {
  requires transitive dev.rectok.api;
  requires transitive com.fasterxml.jackson.databind; // configs are JsonNode in public signatures
  requires transitive java.desktop; // BufferedImage in the image API; ImageIO for files

  exports dev.rectok.torch;
  exports dev.rectok.torch.io;
  exports dev.rectok.torch.nn;
  exports dev.rectok.torch.optim;
  exports dev.rectok.models.dit;
  exports dev.rectok.image;
  exports dev.rectok.models.tokenizer;
  exports dev.rectok.models;
  exports dev.rectok.models.stats;
  // --- issue 14: c10d stores, process groups, collectives ---
  exports dev.rectok.torch.distributed;
  // --- issue 9 phase 2: image listings, shared by the stats collector and the trainers ---
  exports dev.rectok.data;
  // --- issue 12: DINOv3 teacher ---
  exports dev.rectok.models.dinov3;
  // --- issue 11: evaluation like the paper ---
  exports dev.rectok.eval;
  exports dev.rectok.models.inception;

  // issue 9: the golden replay harness is parity infrastructure, not general API.
  exports dev.rectok.models.golden to
      dev.rectok.generate,
      dev.rectok.train,
      dev.rectok.cli,
      com.fasterxml.jackson.databind;

  provides dev.rectok.api.spi.Backend with
      dev.rectok.models.TorchBackend;
  // --- issue 11: evaluation through the API ---
  provides dev.rectok.api.spi.EvaluatorProvider with
      dev.rectok.eval.TorchEvaluator;
}
