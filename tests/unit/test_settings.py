import pytest
from pydantic import ValidationError

from chirp.settings import Settings


def test_given_the_cdk_environment_when_parsed_then_every_endpoint_is_typed():
    settings = Settings.from_env(
        {
            "CHIRP_STAGE": "prod",
            "REDIS_HOST": "cache.internal",
            "REDIS_PORT": "6390",
            "REDIS_TLS": "true",
            "OPENSEARCH_ENDPOINT": "vpc-chirp.es.amazonaws.com",
            "OPENSEARCH_SCHEME": "https",
            "UNRELATED": "ignored",
        }
    )
    assert settings.stage == "prod"
    assert settings.redis_port == 6390
    assert settings.redis_tls is True
    assert settings.opensearch_url == "https://vpc-chirp.es.amazonaws.com"


def test_given_a_bad_port_when_parsed_then_it_is_refused_at_start_not_at_first_use():
    with pytest.raises(ValidationError, match="REDIS_PORT"):
        Settings.from_env({"REDIS_PORT": "not-a-port"})


def test_given_an_unknown_scheme_when_parsed_then_it_is_refused():
    with pytest.raises(ValidationError, match="OPENSEARCH_SCHEME"):
        Settings.from_env({"OPENSEARCH_SCHEME": "ftp"})
