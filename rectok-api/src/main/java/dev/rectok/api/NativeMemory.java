package dev.rectok.api;

/**
 * A diagnostics snapshot of a backend's native memory, for health endpoints and leak hunting. An
 * immutable value; thread-safe. Values are process-wide and may change right after the snapshot was
 * taken.
 *
 * @param liveTensors native tensor handles alive now (all threads); returns to its earlier value
 *     once everything created since was closed
 * @param leaksReported tensors that were garbage-collected without being closed, since start-up
 * @param residentBytes the process's resident set size in bytes, or -1 where unknown
 */
public record NativeMemory(long liveTensors, long leaksReported, long residentBytes) {}
