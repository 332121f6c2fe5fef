"""s3 adapters."""
