"""Jobs views: applications (issue 14; being built)."""
