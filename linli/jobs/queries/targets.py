"""Jobs queries: targets (issue 14; being built)."""
