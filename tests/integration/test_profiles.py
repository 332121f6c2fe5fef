"""Profiles against real DynamoDB: a handle belongs to one user, and the refusal says which rule was broken."""

from __future__ import annotations

import uuid

import pytest

from chirp.errors import Conflict


def test_given_a_taken_handle_when_a_user_without_a_profile_claims_it_then_they_are_told_it_is_taken(
    services, make_user
):
    owner = make_user()
    handle = services.social.profile(owner).handle

    with pytest.raises(Conflict, match=f"handle @{handle} is taken"):
        services.social.create_profile(f"it-{uuid.uuid4().hex[:12]}", handle, "Newcomer")


def test_given_a_user_with_a_profile_when_they_create_another_then_they_are_told_they_have_one(services, make_user):
    owner = make_user()

    with pytest.raises(Conflict, match="already has a profile"):
        services.social.create_profile(owner, f"h{uuid.uuid4().hex[:10]}", "Second")
