"""A client of the Chirp API deployed in the local cloud: real Cognito users (sign-up, sign-in against the
deployed user pool, then a Chirp profile) and authorized calls. Used by the e2e tests (tests/e2e) and by the
benchmarks and the load run (bench/).

Takes the local cloud's variables (localstack/cloud_env.py's read_cloud_env); needs boto3 and requests (the
project venv), so import it as `from localstack.api_client import Accounts, User` with the repository root on
sys.path (`localstack` is a namespace package: it has no __init__.py)."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field

import boto3
import requests

PASSWORD = "Chirp-e2e-Passw0rd!"
# What load-generating users get instead of the stage's tiers: benchmarks measure the system, not its limits.
RAISED_LIMITS = {"*": "1000000/1m"}


@dataclass
class User:
    user_id: str
    handle: str
    token: str
    api: str
    session: requests.Session = field(default_factory=requests.Session, repr=False)

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.session.request(method, f"{self.api}{path}", headers=headers, timeout=30, **kwargs)


class Accounts:
    """Signs users up and in against the deployed user pool, then creates their Chirp profile."""

    def __init__(self, cloud_env: dict[str, str]):
        self.pool = cloud_env["CHIRP_OUTPUT_UserPoolId"]
        self.client_id = cloud_env["CHIRP_OUTPUT_UserPoolClientId"]
        self.api = cloud_env["CHIRP_API_URL"]
        self.cloud_env = cloud_env
        self.cognito = self._client("cognito-idp")

    def _client(self, service: str):
        return boto3.client(
            service,
            endpoint_url=self.cloud_env["AWS_ENDPOINT_URL"],
            region_name=self.cloud_env["AWS_DEFAULT_REGION"],
            aws_access_key_id=self.cloud_env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.cloud_env["AWS_SECRET_ACCESS_KEY"],
        )

    def raise_limits(self, users: list[User], limits: dict[str, str] | None = None) -> None:
        """Sets these users' rate limits as an operator does (SSM, LIMIT_OVERRIDES_PATH/<user id>), then runs the
        limit_overrides function, which mirrors them into Redis where every check reads them (its schedule would
        within a minute)."""
        ssm, path = self._client("ssm"), self.cloud_env["LIMIT_OVERRIDES_PATH"]
        value = json.dumps(limits or RAISED_LIMITS)
        for user in users:
            ssm.put_parameter(Name=f"{path}/{user.user_id}", Value=value, Type="String", Overwrite=True)
        self.mirror_limits()

    def restore_limits(self, users: list[User]) -> None:
        """Back to the stage's tiers (the overrides are deleted, and the mirror updated)."""
        ssm, path = self._client("ssm"), self.cloud_env["LIMIT_OVERRIDES_PATH"]
        for start in range(0, len(users), 10):
            ssm.delete_parameters(Names=[f"{path}/{user.user_id}" for user in users[start : start + 10]])
        self.mirror_limits()

    def mirror_limits(self) -> int:
        """Runs the deployed limit_overrides function once (retried while its schedule's run holds it)."""
        functions = self._client("lambda")
        name = next(
            f["FunctionName"]
            for page in functions.get_paginator("list_functions").paginate()
            for f in page["Functions"]
            if "Functionslimitoverrides" in f["FunctionName"]
        )
        for attempt in range(10):
            try:
                answer = functions.invoke(FunctionName=name, Payload=b"{}")
            except functions.exceptions.TooManyRequestsException:
                time.sleep(0.2 * (attempt + 1))
                continue
            payload = json.loads(answer["Payload"].read())
            if "FunctionError" in answer:
                raise RuntimeError(f"limit_overrides failed: {payload}")
            return payload["users_with_overrides"]
        raise RuntimeError("limit_overrides stayed throttled")

    def create(self, prefix: str = "u") -> User:
        handle = f"{prefix[:4]}{uuid.uuid4().hex[:10]}"  # handles are at most 15 characters
        self.cognito.admin_create_user(UserPoolId=self.pool, Username=handle, MessageAction="SUPPRESS")
        self.cognito.admin_set_user_password(UserPoolId=self.pool, Username=handle, Password=PASSWORD, Permanent=True)
        tokens = self.cognito.initiate_auth(
            ClientId=self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": handle, "PASSWORD": PASSWORD},
        )["AuthenticationResult"]
        attributes = self.cognito.admin_get_user(UserPoolId=self.pool, Username=handle)["UserAttributes"]
        sub = next(a["Value"] for a in attributes if a["Name"] == "sub")
        user = User(user_id=sub, handle=handle, token=tokens["IdToken"], api=self.api)
        response = user.call("POST", "/users", json={"handle": handle, "display_name": f"User {handle}"})
        if response.status_code != 201:
            raise RuntimeError(f"profile creation failed: {response.status_code} {response.text}")
        return user
