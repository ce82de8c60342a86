"""Jobs views: home (issue 14; being built)."""
