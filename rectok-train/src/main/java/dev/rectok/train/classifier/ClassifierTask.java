package dev.rectok.train.classifier;

import dev.rectok.torch.F;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.distributed.DistributedDataParallel;
import dev.rectok.torch.nn.Module;
import dev.rectok.torch.optim.AdamW;
import dev.rectok.torch.optim.ClipGrad;
import dev.rectok.torch.optim.LrSchedule;
import dev.rectok.train.distributed.DataParallel;
import dev.rectok.train.loop.Batch;
import dev.rectok.train.loop.EpochLosses;
import dev.rectok.train.loop.ParamGroups;
import dev.rectok.train.loop.TrainingTask;
import dev.rectok.train.run.TrainingCheckpoint;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * One supervised classification step for {@link dev.rectok.train.loop.TrainLoop}: cross-entropy of
 * the logits against the labels, gradients averaged over the data-parallel processes, optional
 * global-norm clipping, AdamW (betas 0.9, 0.999, eps 1e-8) over the reference's parameter groups
 * ({@link ParamGroups}), the learning rate set from the step's epoch when a schedule is given. The
 * step of {@link ClassifierTrainer} and of the ViT teacher's trainer. It records the mean loss of
 * each epoch ({@link #epochLosses}) and the images it trained on ({@link #images}).
 *
 * <p><b>Ownership and threading.</b> Borrows the model (the caller closes it); owns the optimizer
 * and the gradient averager and frees them in {@link #close}. Called from one thread.
 */
public final class ClassifierTask implements TrainingTask {
  private final Module model;
  private final UnaryOperator<Tensor> logits;
  private final double clipNorm;
  private final LrSchedule schedule;
  private final long perEpoch;
  private final AdamW opt;
  private final DistributedDataParallel ddp;
  private final EpochLosses losses = new EpochLosses();
  private long images;

  /**
   * @param model the module whose parameters train
   * @param logits a batch of images to (B, classes) logits through {@code model}
   * @param lr the AdamW learning rate (the start when {@code schedule} is given)
   * @param weightDecay AdamW weight decay of the decay group
   * @param clipNorm global gradient-norm clip (0: none)
   * @param schedule the learning rate by fractional epoch, or null for a constant {@code lr}
   * @param perEpoch batches per epoch (what the schedule's epoch is counted in)
   */
  public ClassifierTask(
      Module model,
      UnaryOperator<Tensor> logits,
      double lr,
      double weightDecay,
      double clipNorm,
      LrSchedule schedule,
      long perEpoch) {
    this.model = model;
    this.logits = logits;
    this.clipNorm = clipNorm;
    this.schedule = schedule;
    this.perEpoch = perEpoch;
    this.opt = new AdamW(ParamGroups.reference(model, lr, weightDecay), 0.9, 0.999, 1e-8);
    this.ddp = new DistributedDataParallel(DataParallel.current(), model.parameters());
  }

  @Override
  public void register(TrainingCheckpoint checkpoint) {
    checkpoint.module("model", model).optimizer("optimizer", opt);
  }

  @Override
  public Map<String, Double> step(Batch batch, double epoch) {
    try (Scope step = Scope.open()) {
      if (schedule != null) {
        // the step count over the epoch length, as the schedules were measured with (the loop's
        // fractional epoch can differ from it in the last bit)
        schedule.apply(opt, (double) (batch.epoch() * perEpoch + batch.index()) / perEpoch);
      }
      Tensor loss = F.crossEntropy(logits.apply(batch.images()), batch.labels());
      model.zeroGrad();
      loss.backward();
      ddp.averageGradients();
      if (clipNorm > 0) {
        ClipGrad.clipGradNorm(model.parameters(), clipNorm);
      }
      opt.step();
      double l = loss.item();
      losses.add(batch.epoch(), l);
      images += batch.size();
      return Map.of("loss", l);
    }
  }

  /** The mean training loss of each epoch that had a step. */
  public List<Double> epochLosses() {
    return losses.epochMeans();
  }

  /** Images this process trained on. */
  public long images() {
    return images;
  }

  @Override
  public void close() {
    try (ddp) {
      opt.close();
    }
  }
}
