"""OpenSearch adapters: the tweets index."""
