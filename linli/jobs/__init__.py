"""就近帮 nearby employment (issue 14, docs/jobs.md)."""
