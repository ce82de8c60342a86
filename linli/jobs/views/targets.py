"""Jobs views: targets (issue 14; being built)."""
