/**
 * Latent normalization statistics of the tokenizer (docs/tokenizer.md#latent-statistics): {@link
 * dev.rectok.data.ImageList} names the images, {@link dev.rectok.models.stats.StatisticsCollector}
 * streams them through a {@code RecTok} and accumulates per-channel float32 sums exactly as the
 * reference's {@code collect_tokenizer_stats} (resumable from an atomic JSON checkpoint), and
 * {@link dev.rectok.models.stats.LatentStatistics} holds, stores and installs the result ({@code
 * reset_stats}).
 */
package dev.rectok.models.stats;
