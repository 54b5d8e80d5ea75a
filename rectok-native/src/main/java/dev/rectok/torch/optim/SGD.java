package dev.rectok.torch.optim;

import dev.rectok.torch.Foreach;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.Parameter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code torch.optim.SGD} with momentum, dampening, weight decay and Nesterov. Not thread-safe.
 *
 * <p>{@link #exportState()} gives {@code k.momentum_buffer} per parameter (flat index {@code k}
 * across groups) once a step with momentum has run, and nothing before that or without momentum
 * (PyTorch's buffers are {@code None} then); importing an empty state therefore makes the next step
 * initialise the buffers from the gradients again.
 */
public final class SGD implements Optimizer {
  private final List<ParamGroup> groups;
  private final double momentum;
  private final double dampening;
  private final boolean nesterov;
  private final List<Tensor[]> buffers = new ArrayList<>();
  private boolean first = true;

  public SGD(List<ParamGroup> groups, double momentum, double dampening, boolean nesterov) {
    if (nesterov && (momentum <= 0 || dampening != 0)) {
      throw new IllegalArgumentException(
          "Nesterov momentum requires a momentum and zero dampening");
    }
    this.groups = List.copyOf(groups);
    this.momentum = momentum;
    this.dampening = dampening;
    this.nesterov = nesterov;
    for (ParamGroup g : this.groups) {
      Tensor[] b = new Tensor[g.params().size()];
      if (momentum != 0) {
        for (int i = 0; i < b.length; i++) {
          Tensor p = g.params().get(i).data();
          b[i] = Tensor.zeros(p.shape(), p.dtype(), p.device()).escape();
        }
      }
      buffers.add(b);
    }
  }

  @Override
  public List<ParamGroup> paramGroups() {
    return groups;
  }

  @Override
  public void step() {
    for (int gi = 0; gi < groups.size(); gi++) {
      ParamGroup g = groups.get(gi);
      Tensor[] params = g.params().stream().map(Parameter::data).toArray(Tensor[]::new);
      Foreach.sgdStep(
          params, buffers.get(gi), g.lr(), momentum, dampening, g.weightDecay(), nesterov, first);
    }
    first = false;
  }

  @Override
  public Map<String, Tensor> exportState() {
    LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
    if (momentum != 0 && !first) {
      int k = 0;
      for (Tensor[] b : buffers) {
        for (Tensor t : b) {
          out.put(k++ + ".momentum_buffer", t.clone());
        }
      }
    }
    return out;
  }

  @Override
  public void importState(Map<String, Tensor> state) {
    LinkedHashMap<String, OptimizerState.Expected> expected = new LinkedHashMap<>();
    if (momentum != 0 && !state.isEmpty()) {
      int k = 0;
      for (Tensor[] b : buffers) {
        for (Tensor t : b) {
          expected.put(k++ + ".momentum_buffer", new OptimizerState.Expected(t.shape(), null));
        }
      }
    }
    OptimizerState.check("SGD", state, expected);
    if (expected.isEmpty()) {
      first = true;
      return;
    }
    int k = 0;
    try (GradMode g = GradMode.noGrad()) {
      for (Tensor[] b : buffers) {
        for (Tensor t : b) {
          t.copy_(state.get(k++ + ".momentum_buffer"));
        }
      }
    }
    first = false;
  }

  @Override
  public void close() {
    for (Tensor[] b : buffers) {
      for (Tensor t : b) {
        if (t != null) {
          t.close();
        }
      }
    }
  }
}
