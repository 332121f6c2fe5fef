"""Notifications: mentions, replies, new followers."""
