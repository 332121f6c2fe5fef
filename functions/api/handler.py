"""The Chirp REST API: one resolver, a Router per resource (rest_api/), one error mapping, one guard (rate limits
and degradation, chirp.runtime.http_guard). Search and trends are served by discovery.py, a function of their own."""

from rest_api import media, reading, tweets, users
from rest_api.app import entry_point, resolver

app = resolver(users.router, tweets.router, reading.router, media.router)
lambda_handler = entry_point(app)
