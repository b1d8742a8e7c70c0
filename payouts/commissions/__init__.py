"""Commission plans as validated data, and what one conversion earns under them."""
