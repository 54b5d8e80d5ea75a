package dev.rectok.generate.transport;

import dev.rectok.torch.Tensor;

/**
 * A velocity field v(x, t, y) of a flow-matching model (the DiT's {@code net(x, t, y)}), kept apart
 * from the transport so samplers and guidance work with any network or an analytic field.
 *
 * <p>Contract: {@code x} is the state (B, ...) in float32; {@code t} a float32 vector (B,) on the
 * same device, with t = 0 noise and t = 1 data; {@code y} int64 class labels (B,). The inputs are
 * borrowed (read, never closed or modified); the returned tensor, shaped like {@code x}, is new and
 * owned by the caller (it joins the caller's open {@link dev.rectok.torch.Scope}). Samplers call it
 * inside a per-step scope that frees everything created during the step, so state the model keeps
 * across calls (caches, lazily built tables) must be created outside sampling or {@linkplain
 * dev.rectok.torch.Tensor#escape() escaped}. Samplers call it from one thread at a time; an
 * implementation used by several samplers at once must be safe for concurrent calls (a read-only
 * network is).
 */
@FunctionalInterface
public interface VelocityModel {

  /** The velocity at {@code x}, {@code t} for classes {@code y}. */
  Tensor velocity(Tensor x, Tensor t, Tensor y);
}
