"""Adapters per technology (DynamoDB, Redis, OpenSearch, S3, Kinesis, SQS), each implementing a capability's port."""
