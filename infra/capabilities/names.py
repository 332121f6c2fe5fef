"""Construct ids from the catalog's snake_case names (new_tweets -> NewTweets), so logical ids read as CDK's."""

from __future__ import annotations


def pascal_case(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
