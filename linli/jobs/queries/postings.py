"""Jobs queries: postings (issue 14; being built)."""
