"""The Chirp REST API: one resolver, a Router per resource (rest_api/), one error mapping, one guard (rate limits
and degradation, chirp.runtime.http_guard). Search and trends are served by discovery.py, a function of their own."""

from rest_api import engagement, media, reading, tweets, users
from rest_api.app import entry_point, resolver

from chirp.composition import services
from chirp.runtime.snapstart import on_restore

app = resolver(users.router, tweets.router, engagement.router, reading.router, media.router)
lambda_handler = entry_point(app)
on_restore(lambda: services().after_restore())  # SnapStart (AWS): each restored copy leases its own id slot
