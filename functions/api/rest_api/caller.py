"""Who is calling: the `sub` claim the Cognito authorizer verified. Never from the body."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router


def caller(router: Router) -> str:
    return router.current_event.request_context.authorizer.claims["sub"]
