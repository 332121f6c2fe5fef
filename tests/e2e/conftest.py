"""End-to-end helpers: real Cognito users (sign-up + sign-in against the deployed user pool)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import boto3
import pytest
import requests

PASSWORD = "Chirp-e2e-Passw0rd!"


@dataclass
class User:
    user_id: str
    handle: str
    token: str
    api: str

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.api}{path}", headers=headers, timeout=30, **kwargs)


@pytest.fixture(scope="session")
def cognito(cloud_env):
    return boto3.client(
        "cognito-idp",
        endpoint_url=cloud_env["AWS_ENDPOINT_URL"],
        region_name=cloud_env["AWS_DEFAULT_REGION"],
        aws_access_key_id=cloud_env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=cloud_env["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture(scope="session")
def new_user(cloud_env, cognito):
    """Signs a new user up and in, then creates their Chirp profile through the API."""
    pool, client_id = cloud_env["CHIRP_OUTPUT_UserPoolId"], cloud_env["CHIRP_OUTPUT_UserPoolClientId"]

    def create(prefix: str = "u") -> User:
        handle = f"{prefix[:4]}{uuid.uuid4().hex[:10]}"  # handles are at most 15 characters
        cognito.admin_create_user(UserPoolId=pool, Username=handle, MessageAction="SUPPRESS")
        cognito.admin_set_user_password(UserPoolId=pool, Username=handle, Password=PASSWORD, Permanent=True)
        tokens = cognito.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": handle, "PASSWORD": PASSWORD},
        )["AuthenticationResult"]
        sub = next(
            a["Value"]
            for a in cognito.admin_get_user(UserPoolId=pool, Username=handle)["UserAttributes"]
            if a["Name"] == "sub"
        )
        user = User(user_id=sub, handle=handle, token=tokens["IdToken"], api=cloud_env["CHIRP_API_URL"])
        response = user.call("POST", "/users", json={"handle": handle, "display_name": f"User {handle}"})
        assert response.status_code == 201, response.text
        return user

    return create


def eventually(check, timeout_s: float = 15.0, interval_s: float = 0.25):
    """Polls until check() returns a truthy value (asynchronous fan-out), or fails with the last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval_s)
