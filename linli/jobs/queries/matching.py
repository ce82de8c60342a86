"""Jobs queries: matching (issue 14; being built)."""
