"""Jobs services: postings (issue 14; being built)."""
