"""The OpenSearch client of a process, configured from Settings; imported only by what searches or indexes."""

from __future__ import annotations

from functools import lru_cache

from opensearchpy import OpenSearch, RequestsHttpConnection

from chirp.adapters.aws import session
from chirp.adapters.opensearch.tweet_index import TweetIndex
from chirp.search.schema import TWEETS_INDEX
from chirp.settings import Settings


@lru_cache(maxsize=4)
def opensearch_client(settings: Settings) -> OpenSearch:
    use_tls = settings.opensearch_scheme == "https"
    auth = None
    if settings.opensearch_sigv4:
        from opensearchpy import AWSV4SignerAuth

        auth = AWSV4SignerAuth(session().get_credentials(), settings.region, "es")
    return OpenSearch(
        hosts=[settings.opensearch_url],  # the scheme picks TLS and the default port
        http_auth=auth,
        verify_certs=use_tls,
        connection_class=RequestsHttpConnection,
        timeout=5,
    )


def tweet_index(settings: Settings) -> TweetIndex:
    """The tweets index as every function uses it; replicas only matter when it is created (0 on one node)."""
    return TweetIndex(opensearch_client(settings), TWEETS_INDEX, replicas=settings.tweets_index_replicas)
