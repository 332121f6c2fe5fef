"""SSM Parameter Store adapters: settings operators change without a deploy."""
