"""Chirp's domain package: shipped to every Lambda as a layer; knows nothing of Lambda events."""
