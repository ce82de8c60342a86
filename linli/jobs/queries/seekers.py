"""Jobs queries: seekers (issue 14; being built)."""
