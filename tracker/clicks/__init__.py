"""The click path and what stores it: redirect, click records, tokens, reference codes, user agents,
the recorder, the exactly-once store and the Redis stream reader."""
