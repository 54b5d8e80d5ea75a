package dev.rectok.train.run;

/**
 * {@link TinyRun}'s configuration, as stored in config.json. Public and in an exported package, so
 * Jackson reads its accessors without reflective access (the same rule holds for any config).
 */
public record TinyConfig(long seed, int batch, double lr, String note) {}
