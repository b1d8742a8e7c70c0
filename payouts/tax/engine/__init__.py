"""The tax arithmetic, free of the database: dated regimes read from the presets, a profile applied to a
version, and the quote with bands, thresholds and gross-up."""
