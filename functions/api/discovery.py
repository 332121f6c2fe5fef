"""Search and trends: the REST API's discovery routes, in a Lambda of their own with its own reserved concurrency,
so that a flood of searches is shed there and never takes the capacity of posting and home timelines."""

from rest_api import discovery
from rest_api.app import entry_point, resolver

app = resolver(discovery.router)
lambda_handler = entry_point(app)
