"""The demo's employers, postings and seekers (issue 14 §8): being built."""
