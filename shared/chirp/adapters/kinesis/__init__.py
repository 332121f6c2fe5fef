"""kinesis adapters."""
