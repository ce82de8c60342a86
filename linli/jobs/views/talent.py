"""Jobs views: talent (issue 14; being built)."""
