"""Jobs services: seekers (issue 14; being built)."""
