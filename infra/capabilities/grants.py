"""Every grant of the catalog resolved in one place: the least-privilege IAM it allows, and the settings (by
Settings field) that tell the function where the granted resource is. A function's environment is built
from these, so it locates exactly what it may touch."""

from __future__ import annotations

import jsii
from aws_cdk import Aws, IStableStringProducer, Lazy
from aws_cdk import aws_iam as iam

from infra.capabilities.api import STAGE_NAME, rest_api_name
from infra.capabilities.auth import Auth
from infra.capabilities.cache import Cache
from infra.capabilities.data import Data
from infra.capabilities.media import PROCESSED_PREFIX, Media
from infra.capabilities.queues import Queues
from infra.capabilities.search import Search
from infra.capabilities.websocket import WebSocket
from infra.catalog import (
    BUCKETS,
    PARAMETERS,
    QUEUES,
    STREAMS,
    TABLES,
    Access,
    ConnectionsAccess,
    Grant,
    IdTokenAccess,
    MediaAccess,
    MetricsAccess,
    ParameterAccess,
    QueueAccess,
    RedisAccess,
    SearchAccess,
    StreamAccess,
    TableAccess,
    TableCall,
    UserPoolAccess,
)
from infra.config import StageConfig

# The exact HTTP calls (IAM action, path in the domain) of each search access. Nothing here deletes: no access
# may drop the index or a document by DELETE (the indexer deletes by tombstone, a versioned write).
SEARCH_CALLS = {
    Access.DESCRIBE: (("es:ESHttpGet", "_cluster/health"),),
    Access.READ: (("es:ESHttpPost", "tweets/_search"),),
    Access.WRITE: (
        # opensearch-py's helpers.bulk posts to /_bulk (each action line names the index); /tweets/_bulk is the
        # same call addressed to the index.
        ("es:ESHttpPost", "_bulk"),
        ("es:ESHttpPost", "tweets/_bulk"),
        ("es:ESHttpPut", "tweets"),  # ensure_index: creates the index (with its mapping) when it is missing
    ),
    Access.SCHEMA: (
        ("es:ESHttpPut", "tweets"),
        ("es:ESHttpPut", "tweets/_mapping"),
        ("es:ESHttpPut", "tweets/_settings"),
        ("es:ESHttpGet", "_cluster/health/tweets"),
    ),
}
# Accesses that may create the tweets index, and so need its replica count.
SEARCH_CREATES_INDEX = {Access.WRITE, Access.SCHEMA}


def parameter_name(config: StageConfig, parameter: str) -> str:
    """The SSM name of a runtime parameter (catalog.PARAMETERS) on a stage: /chirp/<stage>/<path>."""
    return f"/chirp/{config.name}/{PARAMETERS[parameter].path}"


def parameter_arn(config: StageConfig, parameter: str) -> str:
    """Its ARN (of the folder itself, for a folder: what GetParametersByPath is authorized on)."""
    return f"arn:{Aws.PARTITION}:ssm:{Aws.REGION}:{Aws.ACCOUNT_ID}:parameter{parameter_name(config, parameter)}"


@jsii.implements(IStableStringProducer)
class _FunctionName:
    """A function's name, produced at synthesis: grants are resolved while the functions are being created."""

    def __init__(self, grants: Grants, function: str):
        self.grants, self.function = grants, function

    def produce(self) -> str:
        return self.grants.functions[self.function].function_name


class UnsupportedAccess(ValueError):
    def __init__(self, grant: Grant):
        super().__init__(f"{type(grant).__name__} does not support {grant}")


class Grants:
    def __init__(
        self,
        *,
        config: StageConfig,
        data: Data,
        queues: Queues,
        cache: Cache,
        search: Search,
        media: Media,
        auth: Auth,
        websocket: WebSocket,
    ):
        self.config, self.data, self.queues = config, data, queues
        self.cache, self.search, self.media, self.auth = cache, search, media, auth
        self.websocket = websocket
        self.functions: dict = {}  # filled by the Functions construct, read at synthesis (_FunctionName)

    def apply(self, grant: Grant, role: iam.IRole) -> dict[str, str]:
        """Allows `role` what `grant` names; returns the settings that locate it, by Settings field."""
        match grant:
            case TableAccess():
                return self._table(grant, role)
            case StreamAccess():
                return self._stream(grant, role)
            case QueueAccess():
                return self._queue(grant, role)
            case SearchAccess():
                return self._search(grant, role)
            case MediaAccess():
                return self._media(grant, role)
            case RedisAccess():
                return self._redis(role)
            case ParameterAccess():
                return self._parameter(grant, role)
            case MetricsAccess():
                return self._metrics(role)
            case UserPoolAccess():
                # InitiateAuth with USER_PASSWORD_AUTH is a public Cognito call (no IAM action governs it).
                return {"user_pool_client_id": self.auth.client.user_pool_client_id}
            case IdTokenAccess():
                return {
                    "user_pool_id": self.auth.user_pool.user_pool_id,
                    "user_pool_client_id": self.auth.client.user_pool_client_id,
                }
            case ConnectionsAccess():
                return self._connections(role)
        raise TypeError(f"no resolution for grant {grant!r}")

    def _table(self, grant: TableAccess, role: iam.IRole) -> dict[str, str]:
        """Exactly the calls named, on the table itself; Query on each index named, on that index only."""
        table = self.data.tables[grant.table]
        unknown = set(grant.indexes) - set(self.data.indexes.get(grant.table, ()))
        if unknown:
            raise ValueError(f"table {grant.table!r} has no index {sorted(unknown)}")
        if not grant.calls and not grant.indexes:
            raise UnsupportedAccess(grant)
        if grant.calls:
            role.add_to_principal_policy(
                iam.PolicyStatement(actions=sorted({call.value for call in grant.calls}), resources=[table.table_arn])
            )
        if grant.indexes:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=[TableCall.QUERY.value],
                    resources=[f"{table.table_arn}/index/{index}" for index in grant.indexes],
                )
            )
        return {TABLES[grant.table]: table.table_name}

    def _stream(self, grant: StreamAccess, role: iam.IRole) -> dict[str, str]:
        stream = self.data.streams[grant.stream]
        match grant.access:
            case Access.DESCRIBE:
                stream.grant(role, "kinesis:DescribeStreamSummary")
            case Access.WRITE:
                stream.grant(role, "kinesis:PutRecord")  # the publisher's one call (no PutRecords, no ListShards)
            case Access.READ:  # records read again by sequence number (a trigger's reading is the trigger's)
                stream.grant(role, "kinesis:GetShardIterator", "kinesis:GetRecords")
            case _:
                raise UnsupportedAccess(grant)
        (declared,) = [s for s in STREAMS if s.name == grant.stream]
        return {declared.setting: stream.stream_name}

    def _queue(self, grant: QueueAccess, role: iam.IRole) -> dict[str, str]:
        queue = self.queues.queues[grant.queue]
        queue.grant_send_messages(role)
        (declared,) = [q for q in QUEUES if q.name == grant.queue]
        if declared.setting is None:
            raise ValueError(f"queue {grant.queue!r} is sent to but declares no setting for its URL")
        return {declared.setting: queue.queue_url}

    def _search(self, grant: SearchAccess, role: iam.IRole) -> dict[str, str]:
        """Path-scoped: each access makes a few known calls (health, search, bulk indexing, the deploy's schema)."""
        domain = self.search.domain
        for action, path in SEARCH_CALLS[grant.access]:
            statement = iam.PolicyStatement(actions=[action], resources=[f"{domain.domain_arn}/{path}"])
            role.add_to_principal_policy(statement)
        https = self.config.opensearch_https_sigv4
        settings = {
            "opensearch_endpoint": self.search.endpoint,
            "opensearch_scheme": "https" if https else "http",
            "opensearch_sigv4": _flag(https),
        }
        if grant.access in SEARCH_CREATES_INDEX:
            settings["tweets_index_replicas"] = str(self.config.opensearch_data_nodes - 1)
        return settings

    def _media(self, grant: MediaAccess, role: iam.IRole) -> dict[str, str]:
        """Prefix-scoped, exact actions: GetObject under one prefix, PutObject (and its tagging) under another,
        DeleteObjectTagging under the third. A reader of the processed media renders their URLs, so it also gets
        the CloudFront distribution that serves them, where the stage has one."""
        bucket = self.media.buckets["media"]
        for action, prefix in (
            ("s3:PutObject", grant.put),
            ("s3:PutObjectTagging", grant.put if grant.tagged else None),  # a PUT with tags needs it too
            ("s3:GetObject", grant.get),
            ("s3:DeleteObjectTagging", grant.untag),
        ):
            if prefix is None:
                continue
            role.add_to_principal_policy(
                iam.PolicyStatement(actions=[action], resources=[bucket.arn_for_objects(f"{prefix}*")])
            )
        settings = {BUCKETS["media"]: bucket.bucket_name}
        if grant.get == PROCESSED_PREFIX and self.media.distribution is not None:
            settings["media_base_url"] = f"https://{self.media.distribution.distribution_domain_name}"
        return settings

    def _redis(self, role: iam.IRole) -> dict[str, str]:
        """No IAM on the data: Redis is reached by network placement and, on AWS, the AUTH token."""
        settings = {
            "redis_host": self.cache.host,
            "redis_port": self.cache.port,
            "redis_tls": _flag(self.config.redis_tls_and_auth),
            "redis_cluster": _flag(self.cache.cluster),
        }
        if self.cache.auth_secret is not None:
            self.cache.auth_secret.grant_read(role)
            settings["redis_auth_secret_arn"] = self.cache.auth_secret.secret_arn
        return settings

    def _parameter(self, grant: ParameterAccess, role: iam.IRole) -> dict[str, str]:
        """One call per access: GetParameters on a parameter (readers fetch both level parameters in one call),
        GetParametersByPath on a folder, PutParameter to write. Nothing may delete."""
        declared = PARAMETERS[grant.parameter]
        match grant.access, declared.is_folder:
            case Access.READ, False:
                action = "ssm:GetParameters"
            case Access.READ, True:
                action = "ssm:GetParametersByPath"
            case Access.WRITE, False:
                action = "ssm:PutParameter"
            case _:
                raise UnsupportedAccess(grant)
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=[action], resources=[parameter_arn(self.config, grant.parameter)])
        )
        return {
            declared.setting: parameter_name(self.config, grant.parameter),
            "runtime_config_ttl_s": str(self.config.runtime_config_ttl_s),
        }

    def _connections(self, role: iam.IRole) -> dict[str, str]:
        """PostToConnection on the API's stage, nothing else (no GetConnection, no DeleteConnection)."""
        api_id, stage = self.websocket.api.api_id, self.websocket.stage.stage_name
        arn = f"arn:{Aws.PARTITION}:execute-api:{Aws.REGION}:{Aws.ACCOUNT_ID}:{api_id}/{stage}/POST/@connections/*"
        role.add_to_principal_policy(iam.PolicyStatement(actions=["execute-api:ManageConnections"], resources=[arn]))
        return {"websocket_api_id": api_id, "websocket_stage": stage}

    def _metrics(self, role: iam.IRole) -> dict[str, str]:
        role.add_to_principal_policy(iam.PolicyStatement(actions=["cloudwatch:GetMetricData"], resources=["*"]))
        return {
            "api_name": rest_api_name(self.config),
            "api_stage": STAGE_NAME,
            "fanout_function": Lazy.string(_FunctionName(self, "fanout")),
        }


def _flag(value: bool) -> str:
    return str(value).lower()
