package dev.rectok.torch.optim;

import dev.rectok.api.DType;
import dev.rectok.torch.Foreach;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.Parameter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code torch.optim.AdamW}: decoupled weight decay, bias correction, per-group lr and weight
 * decay, per-parameter step counts. Each step is one native call per group that repeats PyTorch's
 * single-tensor update statement for statement, so results equal PyTorch's. Owns {@code
 * exp_avg}/{@code exp_avg_sq}; not thread-safe.
 *
 * <p>{@link #exportState()} gives, per parameter (flat index {@code k} across groups), {@code
 * k.exp_avg}, {@code k.exp_avg_sq} and {@code k.step} (int64, shape {@code [1]}).
 */
public final class AdamW implements Optimizer {
  private final List<ParamGroup> groups;
  private final double beta1;
  private final double beta2;
  private final double eps;
  private final List<Tensor[]> expAvg = new ArrayList<>();
  private final List<Tensor[]> expAvgSq = new ArrayList<>();
  private final List<long[]> steps = new ArrayList<>();

  /** AdamW with PyTorch's defaults: betas (0.9, 0.999), eps 1e-8. */
  public AdamW(List<ParamGroup> groups) {
    this(groups, 0.9, 0.999, 1e-8);
  }

  public AdamW(List<ParamGroup> groups, double beta1, double beta2, double eps) {
    if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps >= 0)) {
      throw new IllegalArgumentException(
          "invalid AdamW hyper-parameters: betas (" + beta1 + ", " + beta2 + "), eps " + eps);
    }
    this.groups = List.copyOf(groups);
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    for (ParamGroup g : this.groups) {
      int n = g.params().size();
      Tensor[] m = new Tensor[n];
      Tensor[] v = new Tensor[n];
      for (int i = 0; i < n; i++) {
        Tensor p = g.params().get(i).data();
        m[i] = Tensor.zeros(p.shape(), p.dtype(), p.device()).escape();
        v[i] = Tensor.zeros(p.shape(), p.dtype(), p.device()).escape();
      }
      expAvg.add(m);
      expAvgSq.add(v);
      steps.add(new long[n]);
    }
  }

  @Override
  public List<ParamGroup> paramGroups() {
    return groups;
  }

  /** Steps taken by parameter {@code index} of group {@code group}. */
  public long stepCount(int group, int index) {
    return steps.get(group)[index];
  }

  @Override
  public void step() {
    for (int gi = 0; gi < groups.size(); gi++) {
      ParamGroup g = groups.get(gi);
      Tensor[] params = g.params().stream().map(Parameter::data).toArray(Tensor[]::new);
      Foreach.adamwStep(
          params,
          expAvg.get(gi),
          expAvgSq.get(gi),
          steps.get(gi),
          g.lr(),
          beta1,
          beta2,
          eps,
          g.weightDecay());
    }
  }

  /** First-moment state of parameter {@code index} in group {@code group} (borrowed). */
  public Tensor expAvg(int group, int index) {
    return expAvg.get(group)[index];
  }

  /** Second-moment state (borrowed). */
  public Tensor expAvgSq(int group, int index) {
    return expAvgSq.get(group)[index];
  }

  @Override
  public Map<String, Tensor> exportState() {
    LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
    int k = 0;
    for (int gi = 0; gi < groups.size(); gi++) {
      for (int i = 0; i < expAvg.get(gi).length; i++, k++) {
        out.put(k + ".exp_avg", expAvg.get(gi)[i].clone());
        out.put(k + ".exp_avg_sq", expAvgSq.get(gi)[i].clone());
        out.put(k + ".step", Tensor.of(new long[] {steps.get(gi)[i]}, 1));
      }
    }
    return out;
  }

  @Override
  public void importState(Map<String, Tensor> state) {
    LinkedHashMap<String, OptimizerState.Expected> expected = new LinkedHashMap<>();
    int k = 0;
    for (int gi = 0; gi < groups.size(); gi++) {
      for (int i = 0; i < expAvg.get(gi).length; i++, k++) {
        long[] shape = expAvg.get(gi)[i].shape();
        expected.put(k + ".exp_avg", new OptimizerState.Expected(shape, null));
        expected.put(k + ".exp_avg_sq", new OptimizerState.Expected(shape, null));
        expected.put(k + ".step", new OptimizerState.Expected(new long[] {1}, DType.INT64));
      }
    }
    OptimizerState.check("AdamW", state, expected);
    k = 0;
    try (GradMode g = GradMode.noGrad()) {
      for (int gi = 0; gi < groups.size(); gi++) {
        for (int i = 0; i < expAvg.get(gi).length; i++, k++) {
          expAvg.get(gi)[i].copy_(state.get(k + ".exp_avg"));
          expAvgSq.get(gi)[i].copy_(state.get(k + ".exp_avg_sq"));
          steps.get(gi)[i] = state.get(k + ".step").itemLong();
        }
      }
    }
  }

  @Override
  public void close() {
    expAvg.forEach(a -> java.util.Arrays.stream(a).forEach(Tensor::close));
    expAvgSq.forEach(a -> java.util.Arrays.stream(a).forEach(Tensor::close));
  }
}
