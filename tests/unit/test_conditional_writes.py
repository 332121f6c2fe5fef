"""written(): a conditional write that its condition refuses is an answer (False, nothing written); any other
failure of the write is raised."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import DeleteError, PutError, UpdateError

from chirp.adapters.dynamodb.conditional import written


def failing(error_type, code: str):
    def write():
        cause = ClientError({"Error": {"Code": code, "Message": "refused"}}, "UpdateItem")
        raise error_type("the write failed", cause=cause)

    return write


def test_given_a_write_that_succeeds_then_it_was_written():
    calls = []

    assert written(lambda: calls.append("wrote")) is True
    assert calls == ["wrote"]


@pytest.mark.parametrize("error_type", [PutError, UpdateError, DeleteError])
def test_given_a_write_its_condition_refuses_then_it_was_not_written(error_type):
    assert written(failing(error_type, "ConditionalCheckFailedException")) is False


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ValidationException"])
def test_given_a_write_failing_for_another_reason_then_the_failure_is_raised(code):
    with pytest.raises(UpdateError) as raised:
        written(failing(UpdateError, code))

    assert raised.value.cause_response_code == code
