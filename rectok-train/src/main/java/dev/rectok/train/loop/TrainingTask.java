package dev.rectok.train.loop;

import dev.rectok.train.run.TrainingCheckpoint;
import java.util.Map;

/**
 * One trainer's optimizer step and the state it needs to resume, driven by {@link TrainLoop}: the
 * tokenizer's flow distillation, decoder fine-tuning, the generator's flow matching.
 *
 * <p><b>Ownership and threading.</b> A task owns its models, optimizers and generators and frees
 * them in {@link #close}. The loop calls it from one thread.
 */
public interface TrainingTask extends AutoCloseable {

  /**
   * Registers every piece of state (modules, EMA, optimizers, RNGs) a bit-identical resume needs.
   */
  void register(TrainingCheckpoint checkpoint);

  /**
   * One optimizer step on {@code batch} at fractional epoch {@code epoch} (sets the learning rate
   * from it). Returns the scalar metrics to log, e.g. {@code loss}, each loss term, {@code lr}.
   */
  Map<String, Double> step(Batch batch, double epoch);

  @Override
  void close();
}
