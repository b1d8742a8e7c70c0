"""Partners' tax profiles, finance's quotes, operator edits to the regimes, and their API and CLI."""
