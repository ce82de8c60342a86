"""Jobs views: nearby (issue 14; being built)."""
