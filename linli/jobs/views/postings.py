"""Jobs views: postings (issue 14; being built)."""
