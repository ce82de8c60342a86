"""Jobs queries: enterprise (issue 14; being built)."""
