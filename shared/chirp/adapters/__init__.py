"""Clients for the outside world (DynamoDB, Kinesis, Redis, OpenSearch), built from Settings."""
