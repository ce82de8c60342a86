"""Jobs services: enterprise (issue 14; being built)."""
