package dev.rectok.demomodels;

/**
 * Names of the shipped Fashion-MNIST demo models (trained by {@code rectok train recipe --seed 0}:
 * a 32 × 32 RecTok tokenizer with 4 × 4 × 32 latents and latent statistics, a DiT^DH generator for
 * the 10 classes, its AutoGuidance companion and the ViT teacher), stored as class-path resources
 * of this artifact. Open them with {@code
 * Backends.openTokenizerResource(FashionMnistModels.TOKENIZER, FashionMnistModels.loader(),
 * Device.CPU)}. Constants only; thread-safe.
 */
public final class FashionMnistModels {
  private FashionMnistModels() {}

  /** The tokenizer (with latent statistics). */
  public static final String TOKENIZER = "rectok-models/fashion-mnist/tokenizer.safetensors";

  /** The class-conditional generator (10 classes). */
  public static final String GENERATOR = "rectok-models/fashion-mnist/generator.safetensors";

  /** The generator's AutoGuidance companion. */
  public static final String GUIDE = "rectok-models/fashion-mnist/guide.safetensors";

  /** The demo's feature teacher (a ViT classifier). */
  public static final String TEACHER = "rectok-models/fashion-mnist/teacher.safetensors";

  /** The class names, by label. */
  public static final java.util.List<String> CLASSES =
      java.util.List.of(
          "T-shirt/top",
          "Trouser",
          "Pullover",
          "Dress",
          "Coat",
          "Sandal",
          "Shirt",
          "Sneaker",
          "Bag",
          "Ankle boot");

  /** {@return the class loader that holds the resources (this artifact's)} */
  public static ClassLoader loader() {
    return FashionMnistModels.class.getClassLoader();
  }
}
