/**
 * The RecTok tokenizer ({@code models/rectok.py}): {@link
 * dev.rectok.models.tokenizer.RecTokConfig}, the {@link dev.rectok.models.tokenizer.RecTok} module
 * tree with the reference's state-dict names, and {@link
 * dev.rectok.models.tokenizer.TokenizerCheckpoints} to load released or golden weights.
 */
package dev.rectok.models.tokenizer;
