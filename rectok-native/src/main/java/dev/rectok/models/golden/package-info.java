/** Readers and comparisons for golden-file folders produced by the reference implementation. */
package dev.rectok.models.golden;
