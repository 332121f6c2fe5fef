"""Ids: 64-bit Snowflake ids, issued by leased worker slots."""
