"""Lambda plumbing: event parsing and batch processing around the domain (which knows nothing of Lambda)."""
