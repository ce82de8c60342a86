"""Jobs views: enterprise (issue 14; being built)."""
