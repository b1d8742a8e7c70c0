"""Commission plans: stored per offer, read as validated rules, and what one conversion earns under them."""
