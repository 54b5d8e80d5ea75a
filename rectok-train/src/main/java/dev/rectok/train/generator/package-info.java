/**
 * Training the DiT^DH generator by flow matching in RecTok latent space
 * (docs/training.md#generator-recipe, docs/generator.md#training-law).
 *
 * <ul>
 *   <li>{@link dev.rectok.train.generator.GeneratorTrainingConfig}: the recipe (release defaults,
 *       JSON round trip);
 *   <li>{@link dev.rectok.train.generator.LatentSource}: the training data x1, either {@link
 *       dev.rectok.train.generator.OnlineLatents} (a frozen tokenizer encodes every batch, as the
 *       reference does) or {@link dev.rectok.train.generator.LatentCache} (posterior mean and std
 *       of both orientations encoded once, sampled afresh every step);
 *   <li>{@link dev.rectok.train.generator.GeneratorTrainer}: the {@link
 *       dev.rectok.train.loop.TrainingTask} (one optimizer step, checkpoint registration, export of
 *       the EMA network as a generator model file for {@code dev.rectok.generate.DiTGenerator} and
 *       {@code rectok generate}).
 * </ul>
 *
 * <p><b>AutoGuidance.</b> The guide network (DiT^DH-S for DiT^DH-XL) is trained by a second {@code
 * GeneratorTrainer} on the same latents with a smaller model and fewer epochs; there is no special
 * code. Sampling then opens both exported files:
 *
 * <pre>{@code
 * var xl = GeneratorTrainingConfig.builder(DiTConfig.preset("DiTDDT_xl")).build();            // 800 epochs
 * var s = GeneratorTrainingConfig.builder(DiTConfig.preset("DiTDDT_s")).epochs(30).build();   // the guide
 * try (var main = new GeneratorTrainer(xl, latents, device); var guide = new GeneratorTrainer(s, latents, device)) {
 *   ... drive both with the training loop ...
 *   main.exportModel(Path.of("ditdh_xl.safetensors"));
 *   guide.exportModel(Path.of("ditdh_s.safetensors"));
 * }
 * DiTGenerator gen = DiTGenerator.open(Path.of("ditdh_xl.safetensors"), Path.of("ditdh_s.safetensors"), device);
 * gen.sample(labels, seed, GenerateOptions.builder().autoGuidance().build(), progress);
 * }</pre>
 */
package dev.rectok.train.generator;
