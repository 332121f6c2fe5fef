"""Trending hashtags."""
