"""Jobs services: applications (issue 14; being built)."""
