package dev.rectok.train.loop;

import dev.rectok.torch.Foreach;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.Module;
import dev.rectok.torch.nn.Parameter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The reference's {@code SimpleEMAModel} (docs/training.md#optimizer): after every optimizer step,
 * trainable parameters move as {@code ema ← d·ema + (1 − d)·p} and frozen parameters and buffers
 * are copied. Copying frozen ones is what makes the stage-2 EMA encoder equal the live encoder
 * (docs/training.md#stage2 quirk).
 *
 * <p>The shadow must be a module of the same architecture; it is initialized with the model's
 * weights here and has autograd turned off.
 *
 * <p><b>Ownership and threading.</b> Borrows both modules (closes neither). Not thread-safe: call
 * {@link #update} from the training thread between steps.
 */
public final class Ema {
  private final Module model;
  private final Module shadow;
  private final Tensor[] trainableShadow;
  private final Tensor[] trainableLive;
  private final List<Tensor[]> copied = new ArrayList<>();

  /** Pairs {@code model} with {@code shadow} by parameter name and copies the weights over. */
  public Ema(Module model, Module shadow) {
    this.model = model;
    this.shadow = shadow;
    Map<String, Parameter> live = model.namedParameters();
    Map<String, Parameter> ema = shadow.namedParameters();
    if (!live.keySet().equals(ema.keySet())) {
      throw new IllegalArgumentException(
          "EMA shadow has different parameters than the model: "
              + ema.keySet()
              + " vs "
              + live.keySet());
    }
    List<Tensor> s = new ArrayList<>();
    List<Tensor> l = new ArrayList<>();
    live.forEach(
        (name, p) -> {
          if (p.requiresGrad()) {
            s.add(ema.get(name).data());
            l.add(p.data());
          } else {
            copied.add(new Tensor[] {ema.get(name).data(), p.data()});
          }
        });
    Map<String, Tensor> liveBuffers = model.namedBuffers();
    shadow
        .namedBuffers()
        .forEach(
            (name, b) -> {
              Tensor src = liveBuffers.get(name);
              if (src == null) {
                throw new IllegalArgumentException(
                    "EMA shadow buffer " + name + " has no counterpart in the model");
              }
              copied.add(new Tensor[] {b, src});
            });
    trainableShadow = s.toArray(Tensor[]::new);
    trainableLive = l.toArray(Tensor[]::new);
    shadow.requiresGrad_(false);
    try (GradMode g = GradMode.noGrad()) {
      shadow.loadStateDict(model.stateDict(), true);
    }
  }

  /** The averaged module. */
  public Module shadow() {
    return shadow;
  }

  /** The live module being averaged. */
  public Module model() {
    return model;
  }

  /** One EMA step with decay {@code d} in [0, 1]. */
  public void update(double decay) {
    if (!(decay >= 0 && decay <= 1)) {
      throw new IllegalArgumentException("EMA decay must be in [0, 1], got " + decay);
    }
    try (GradMode g = GradMode.noGrad()) {
      if (trainableShadow.length > 0) {
        Foreach.emaUpdate_(trainableShadow, trainableLive, decay);
      }
      for (Tensor[] pair : copied) {
        pair[0].copy_(pair[1]);
      }
    }
  }
}
