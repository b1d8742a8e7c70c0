"""Statistics per day, partner, offer, link or sub-id, and the L1/L2/S1 chain, scoped to the caller."""
