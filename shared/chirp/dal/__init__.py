"""Data access: DynamoDB (pynamodb) and Redis behind small classes; the domain sees only these."""
