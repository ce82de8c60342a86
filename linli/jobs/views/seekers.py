"""Jobs views: seekers (issue 14; being built)."""
