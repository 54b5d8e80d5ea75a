package dev.rectok.train.tokenizer;

import dev.rectok.models.tokenizer.Posterior;
import dev.rectok.torch.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything one tokenizer training forward produced: the loss terms (0-dim tensors, in the
 * reference's {@code loss_dict} sense) and the intermediates a golden replay compares. Terms that a
 * stage does not compute are null (stage 2: no mask, ids, τ, semantic terms; no perceptual term
 * without weights; no GAN term before {@code discriminator_start_epoch}).
 *
 * <p><b>Ownership.</b> Owns its tensors: {@link #close} frees them (they are also kept by the scope
 * that was current during the forward, so closing that scope frees them as well). Not thread-safe.
 *
 * @param maskRatio r = max(0, U(mask_ratio_min, mask_ratio)); 0 without masking
 * @param lenKeep visible tokens, {@code ceil(L·(1 − r))}; L without masking
 * @param mask (B, L), 1 = masked, original token order; null without masking
 * @param idsShuffle (B, L) argsort of the mask noise; null without masking
 * @param idsRestore (B, L) inverse of {@code idsShuffle}; null without masking
 * @param idsKeep (B, lenKeep) the first {@code lenKeep} of {@code idsShuffle}; null without masking
 * @param zFull encoder output of the visible tokens (B, lenKeep, 2C)
 * @param posterior the diagonal Gaussian over {@code zFull}; null with {@code disable_kl}
 * @param zSampled mean + std·ε (B, lenKeep, C)
 * @param tau τ (B, 1, 1) of the latent noise; null without noise (γ = 0)
 * @param zNoisy (1 − τ)·z + τ·γ·ε, the input of both decoders (= {@code zSampled} without noise)
 * @param decoded pixel-decoder output (B, 3, H, W) in [−1, 1] space, unclamped
 * @param semPred semantic-decoder output (B, L, D); null without the semantic loss
 * @param semTarget teacher patch features (B, L, D), no grad; null without the semantic loss
 * @param pixelMse MSE of the [0, 1] images
 * @param perceptual the perceptual mix, unweighted; null when off
 * @param kl Σ KL / B over the visible tokens, unweighted; null with {@code disable_kl}
 * @param klWeighted {@code kl_loss_weight · kl}; null with {@code disable_kl}
 * @param semCosine mean over (B, L) of 1 − cos(pred, target), unweighted; null without it
 * @param semWeighted {@code sem_loss_weight · semCosine}; null without it
 * @param ganGenerator −mean D(x̂), unweighted; null while the GAN is inactive
 * @param total the generator's loss that is back-propagated
 */
public record LossTerms(
    double maskRatio,
    int lenKeep,
    Tensor mask,
    Tensor idsShuffle,
    Tensor idsRestore,
    Tensor idsKeep,
    Tensor zFull,
    Posterior posterior,
    Tensor zSampled,
    Tensor tau,
    Tensor zNoisy,
    Tensor decoded,
    Tensor semPred,
    Tensor semTarget,
    Tensor pixelMse,
    Tensor perceptual,
    Tensor kl,
    Tensor klWeighted,
    Tensor semCosine,
    Tensor semWeighted,
    Tensor ganGenerator,
    Tensor total)
    implements AutoCloseable {

  /**
   * The scalar terms as logged metrics: {@code loss}, {@code pixel_mse}, {@code perceptual}, {@code
   * kl}, {@code kl_weighted}, {@code sem_cosine}, {@code sem_weighted}, {@code gan_generator}
   * (those present) and {@code mask_ratio}. Synchronizes with the device.
   */
  public Map<String, Double> metrics() {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("loss", total.item());
    m.put("pixel_mse", pixelMse.item());
    put(m, "perceptual", perceptual);
    put(m, "kl", kl);
    put(m, "kl_weighted", klWeighted);
    put(m, "sem_cosine", semCosine);
    put(m, "sem_weighted", semWeighted);
    put(m, "gan_generator", ganGenerator);
    m.put("mask_ratio", maskRatio);
    return m;
  }

  private static void put(Map<String, Double> m, String name, Tensor t) {
    if (t != null) {
      m.put(name, t.item());
    }
  }

  @Override
  public void close() {
    for (Tensor t :
        new Tensor[] {
          mask,
          idsShuffle,
          idsRestore,
          idsKeep,
          zFull,
          zSampled,
          tau,
          zNoisy,
          decoded,
          semPred,
          semTarget,
          pixelMse,
          perceptual,
          kl,
          klWeighted,
          semCosine,
          semWeighted,
          ganGenerator,
          total
        }) {
      if (t != null) {
        t.close();
      }
    }
    if (posterior != null) {
      posterior.close();
    }
  }
}
