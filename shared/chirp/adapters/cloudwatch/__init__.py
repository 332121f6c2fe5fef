"""CloudWatch: the signals the degradation controller reads."""
