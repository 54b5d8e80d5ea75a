package dev.rectok.torch.nn;

import dev.rectok.torch.F;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;

/**
 * {@code nn.Embedding(num_embeddings, embedding_dim)}: {@code weight} initialised N(0, 1). Owns its
 * parameters; threading as for every {@link Module}: concurrent eval-mode forwards are safe,
 * training and loading are single-threaded.
 */
public final class Embedding extends UnaryModule {
  public final long numEmbeddings;
  public final long embeddingDim;
  private final Parameter weight;

  public Embedding(long numEmbeddings, long embeddingDim) {
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    this.weight = registerParameter("weight", Tensor.zeros(numEmbeddings, embeddingDim));
    resetParameters(null);
  }

  @Override
  public void resetParameters(TorchGenerator gen) {
    Init.normal_(weight.data(), 0, 1, gen);
  }

  public Parameter weight() {
    return weight;
  }

  /** Looks up int64 {@code indices}. */
  @Override
  public Tensor forward(Tensor indices) {
    return F.embedding(weight.data(), indices);
  }
}
