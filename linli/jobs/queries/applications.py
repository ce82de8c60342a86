"""Jobs queries: applications (issue 14; being built)."""
