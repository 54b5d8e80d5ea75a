package dev.rectok.train.loop;

import dev.rectok.torch.nn.Module;
import dev.rectok.torch.nn.Parameter;
import dev.rectok.torch.optim.ParamGroup;
import java.util.ArrayList;
import java.util.List;

/**
 * The reference's two AdamW parameter groups ({@code create_optimizer_and_scaler},
 * docs/training.md#optimizer): trainable parameters with weight decay, and those exempt from it —
 * every parameter with fewer than two dimensions or whose name contains one of {@link
 * #NO_DECAY_SUBSTRINGS}. The substring rule is kept verbatim, quirks included ({@code
 * encoder.patch_embed.0.weight}, {@code mask_token} and {@code positional_embedding} get no decay).
 * Frozen parameters are left out.
 *
 * <p>The one place that splits parameters into decay groups, and the one rule: every trainer — the
 * reference's models (RecTok, DiT^DH, the discriminator) and the SDK's own classifiers (the demo
 * teacher, the MLP check) — uses the reference's. Stateless and thread-safe; the parameters stay
 * owned by the module.
 */
public final class ParamGroups {
  /** Name fragments that exempt a parameter from weight decay, as in the reference. */
  public static final List<String> NO_DECAY_SUBSTRINGS =
      List.of("ln", "bias", "embedding", "norm", "gamma", "embed", "token", "diffloss");

  private ParamGroups() {}

  /** Whether the reference exempts parameter {@code name} of rank {@code dim} from weight decay. */
  public static boolean noWeightDecay(String name, int dim) {
    if (dim < 2) {
      return true;
    }
    for (String s : NO_DECAY_SUBSTRINGS) {
      if (name.contains(s)) {
        return true;
      }
    }
    return false;
  }

  /**
   * {@code [decay, no_decay]} groups over the trainable parameters of {@code module} in
   * registration order, both at {@code lr}; the first has {@code weightDecay}, the second 0 and
   * holds the parameters {@link #noWeightDecay} exempts. Either may be empty, not both.
   */
  public static List<ParamGroup> reference(Module module, double lr, double weightDecay) {
    List<Parameter> decay = new ArrayList<>();
    List<Parameter> noDecay = new ArrayList<>();
    module
        .namedParameters()
        .forEach(
            (name, p) -> {
              if (p.requiresGrad()) {
                (noWeightDecay(name, p.data().dim()) ? noDecay : decay).add(p);
              }
            });
    if (decay.isEmpty() && noDecay.isEmpty()) {
      throw new IllegalArgumentException("module has no trainable parameters");
    }
    return List.of(new ParamGroup(decay, lr, weightDecay), new ParamGroup(noDecay, lr, 0.0));
  }
}
