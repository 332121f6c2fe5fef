"""CloudFormation custom resource `Custom::SearchSchema`: applies the tweets index's schema during the deploy.

The index then exists, with its mapping and its primary shards active, before the first tweet is indexed or
searched: no reader meets a half-created index, and a mapping change ships with the code that needs it.
Delete keeps the index (the domain's removal policy decides the fate of the data).

A request for another schema than the one this code holds (its InputsDigest differs) is CloudFormation
rolling back: it updates this resource to the previous properties before it puts the previous code back.
Fields are never removed from a mapping, so the index already serves the previous code: the request is
answered SUCCESS with nothing done, where applying this code's schema again would fail the rollback too.

CloudFormation waits for the answer PUT to the request's pre-signed ResponseURL, so every outcome is
answered: a failure answers FAILED with its reason and the deploy rolls back instead of hanging.
"""

import json
import urllib.request
from functools import cache

from aws_lambda_powertools.utilities.typing import LambdaContext

from chirp.adapters.opensearch.tweet_index import TweetIndex
from chirp.composition import services
from chirp.observability import logger, tracer
from chirp.search.schema import TWEETS_INDEX, schema_digest

MAX_REASON_CHARS = 1000  # CloudFormation rejects a response body over 4 KB


@cache
def tweet_index() -> TweetIndex:
    return services().tweet_index


def respond(event: dict, status: str, reason: str = "", data: dict | None = None) -> None:
    body = {
        "Status": status,
        "Reason": reason[:MAX_REASON_CHARS],
        # Stable across updates: a new id would make CloudFormation delete the "old" resource.
        "PhysicalResourceId": event.get("PhysicalResourceId", TWEETS_INDEX),
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": data or {},
    }
    # The URL is signed without a content type: send an empty one (urllib would add a form type).
    request = urllib.request.Request(
        event["ResponseURL"], data=json.dumps(body).encode(), method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def apply(request_type: str, inputs_digest: str | None) -> dict:
    """What the request asks of the index; returns the custom resource's attributes."""
    if request_type == "Delete":
        return {}
    index = tweet_index()
    if inputs_digest != schema_digest():
        logger.warning("a request for another schema (a rollback): nothing to apply", extra={"digest": inputs_digest})
        return {"Index": index.index, "Created": "false"}
    created = index.apply_schema()
    logger.info("search schema applied", extra={"index": index.index, "index_created": created})
    return {"Index": index.index, "Created": str(created).lower()}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> None:
    try:
        properties = event.get("ResourceProperties", {})
        status, reason, data = "SUCCESS", "", apply(event["RequestType"], properties.get("InputsDigest"))
    except Exception as error:  # noqa: BLE001 - every failure must be answered, or the deploy waits
        logger.exception("search schema not applied", extra={"request_type": event.get("RequestType")})
        status, reason, data = "FAILED", f"{type(error).__name__}: {error}", {}
    respond(event, status, reason, data)
