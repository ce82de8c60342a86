"""Jobs services: targets (issue 14; being built)."""
