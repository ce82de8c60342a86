"""Jobs services: employers (issue 14; being built)."""
