import pytest
from pydantic import ValidationError

from chirp.settings import Settings, get_settings


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


def test_given_the_process_environment_when_read_then_each_field_comes_from_its_own_variable(monkeypatch):
    monkeypatch.setenv("REDIS_PORT", "6460")
    monkeypatch.setenv("RUNTIME_CONFIG_TTL_S", "2.5")
    monkeypatch.setenv("TWEETS_TABLE", "Chirp-local-Tweets")
    get_settings.cache_clear()
    try:
        settings = get_settings()
    finally:
        get_settings.cache_clear()
    assert (settings.redis_port, settings.runtime_config_ttl_s) == (6460, 2.5)
    assert settings.tweets_table == "Chirp-local-Tweets"


def test_given_equal_values_when_read_twice_then_the_settings_are_one_cache_key():
    first, second = Settings.from_env({}), Settings.from_env({"UNRELATED": "x"})
    assert first.redis_host == "127.0.0.1"
    assert first.aws_endpoint_url is None
    assert first == second
    assert hash(first) == hash(second)
