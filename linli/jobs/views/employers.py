"""Jobs views: employers (issue 14; being built)."""
