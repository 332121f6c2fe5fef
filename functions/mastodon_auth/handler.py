"""The Mastodon API's token authorizer: API Gateway calls it with the `Authorization` header and caches its
answer per token (the catalog's AuthorizerTrigger says how long). A token Chirp issued and has not revoked is
allowed on every route of the API, as its user, with its scopes passed on; anything else is 401."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from chirp.composition import services
from chirp.observability import logger
from chirp.runtime.snapstart import on_restore

on_restore(lambda: services().after_restore())


def api_arn(method_arn: str) -> str:
    """Every method of the API and stage a method ARN names: a cached answer is reused for other routes of the
    same token, so it must allow them all. arn:aws:execute-api:region:account:api/stage/VERB/path..."""
    api, stage = method_arn.split("/")[:2]
    return f"{api}/{stage}/*/*"


def lambda_handler(event: dict, context: LambdaContext) -> dict:
    raw = event.get("authorizationToken") or ""
    scheme, _, token = raw.partition(" ")
    grant = services().oauth.authenticate(token.strip()) if scheme.lower() == "bearer" else None
    if grant is None:
        logger.info("token refused")
        raise Exception("Unauthorized")  # API Gateway's way to answer 401 (not 403)
    return {
        "principalId": grant.user_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": api_arn(event["methodArn"])}],
        },
        "context": {"scopes": " ".join(grant.scopes), "client_id": grant.client_id},
    }
