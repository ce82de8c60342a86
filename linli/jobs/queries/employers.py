"""Jobs queries: employers (issue 14; being built)."""
