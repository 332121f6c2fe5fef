"""SSM Parameter Store: runtime settings operators change without a deploy (degradation level, limit overrides)."""
