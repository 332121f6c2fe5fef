"""Redis adapters: what can be rebuilt from DynamoDB (timelines, caches, counters, leases)."""
