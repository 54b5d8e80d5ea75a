package dev.rectok.train.loop;

import java.util.ArrayList;
import java.util.List;

/**
 * The mean training loss of each epoch, accumulated step by step in the order the steps ran (the
 * per-epoch curve the in-memory trainers report). Not thread-safe; a {@link TrainingTask} owns one.
 */
public final class EpochLosses {
  private final List<double[]> sums = new ArrayList<>();

  /** Creates an empty record. */
  public EpochLosses() {}

  /**
   * Adds one step's {@code loss} to epoch {@code epoch} (epochs may be skipped, never revisited).
   */
  public void add(int epoch, double loss) {
    if (epoch < 0 || epoch < sums.size() - 1) {
      throw new IllegalArgumentException(
          "epoch " + epoch + " is before the current epoch " + (sums.size() - 1));
    }
    while (sums.size() <= epoch) {
      sums.add(new double[2]);
    }
    double[] s = sums.get(epoch);
    s[0] += loss;
    s[1]++;
  }

  /** The mean loss of every epoch that had a step, in epoch order. */
  public List<Double> epochMeans() {
    List<Double> means = new ArrayList<>();
    for (double[] s : sums) {
      if (s[1] > 0) {
        means.add(s[0] / s[1]);
      }
    }
    return List.copyOf(means);
  }
}
