"""Search: what is indexed for a tweet, the schema of the index, and queries."""
