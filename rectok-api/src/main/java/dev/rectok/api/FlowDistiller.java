package dev.rectok.api;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Trains a RecTok tokenizer the paper's way. Stage 1 distils a frozen teacher's patch features into
 * the latent twice: <em>flow semantic distillation</em> (a small semantic decoder predicts the
 * features from the latent noised along the rectified-flow forward path, on the generator's time
 * law) and <em>reconstruction-alignment distillation</em> (the features of masked tokens are
 * predicted from the visible ones), next to pixel, perceptual, KL and GAN losses. Stage 2
 * fine-tunes the decoder alone. Open one with {@link Backends#openFlowDistiller}.
 *
 * <p>Training happens in a run directory ({@link FlowDistillerSpec#runDirectory()}): config,
 * metrics, atomic checkpoints and sample grids. {@link #train} resumes from the last complete
 * checkpoint, so a killed process loses at most the steps since it.
 *
 * <p><b>Threading and ownership.</b> Not thread-safe: one call at a time. The distiller owns its
 * models, optimizers and native memory until {@link #close()}; the files it writes belong to the
 * caller.
 */
public interface FlowDistiller extends AutoCloseable {

  /**
   * Trains (or resumes) until the schedule ends or a {@link TrainingLimits limit} stops it.
   *
   * @throws IOException when the data, teacher or run directory cannot be read or written
   * @param limits when to stop this call (steps, minutes)
   * @param progress told about each step
   * @return what this call trained
   */
  TrainingReport train(TrainingLimits limits, Progress progress) throws IOException;

  /**
   * Writes the EMA tokenizer (encoder and pixel decoder; the semantic decoder is training-only) as
   * a self-describing model file that {@link Backends#openTokenizer} opens. Latent statistics for
   * the generator are computed over {@code statisticsImages} training images (0: none).
   *
   * @param modelFile where to write the model file
   * @param statisticsImages how many training images the latent statistics are computed over
   * @param progress told about the statistics pass
   * @return the written file
   * @throws IOException when the file cannot be written or the data read
   */
  Path export(Path modelFile, int statisticsImages, Progress progress) throws IOException;

  /** Frees the models and native memory. Idempotent. */
  @Override
  void close();
}
