"""Partner postbacks: URL templates and macros, target checks, signatures, the queue and its delivery."""
