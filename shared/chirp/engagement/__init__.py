"""Engagement: likes, retweets, the counts on every tweet (sharded counters), and the events they raise."""
