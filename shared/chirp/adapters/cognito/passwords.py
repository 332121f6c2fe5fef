"""Password sign-in against the Cognito user pool (USER_PASSWORD_AUTH through its app client)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from functools import cached_property
from typing import Any

from botocore.exceptions import ClientError

# Answers that mean "these credentials sign nobody in"; anything else (throttling, an outage) is raised.
_REFUSED = (
    "NotAuthorizedException",
    "UserNotFoundException",
    "UserNotConfirmedException",
    "PasswordResetRequiredException",
)


class CognitoPasswords:
    def __init__(self, cognito: Callable[[], Any], client_id: str):
        self._cognito, self.client_id = cognito, client_id

    @cached_property
    def cognito(self) -> Any:
        """Built on first use: the token authorizer checks tokens without ever signing anyone in."""
        return self._cognito()

    def user_id(self, username: str, password: str) -> str | None:
        try:
            answer = self.cognito.initiate_auth(
                ClientId=self.client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _REFUSED:
                return None
            raise
        result = answer.get("AuthenticationResult")
        if not result:  # a challenge (a new password, MFA): not something a password grant can answer
            return None
        return id_token_subject(result["IdToken"])


def id_token_subject(id_token: str) -> str:
    """The `sub` of an ID token the user pool just returned to this process over its own API call (so its
    signature needs no check here: it did not come from a client)."""
    payload = id_token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims["sub"]
