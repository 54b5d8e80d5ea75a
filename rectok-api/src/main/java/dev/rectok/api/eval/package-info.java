/**
 * Evaluation value types (requests, protocols, metrics, reports) for FID, Inception Score,
 * precision/recall, KID and sFID; the implementation is found as a {@link
 * dev.rectok.api.spi.EvaluatorProvider} service through {@link dev.rectok.api.Backends#evaluators}.
 */
package dev.rectok.api.eval;
