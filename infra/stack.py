"""The Chirp stack: composes one construct per capability (one stack: the media bucket's notification
and its Lambda must live together, or the stacks would depend on each other in a cycle)."""

from __future__ import annotations

from aws_cdk import CfnOutput, NestedStack, Stack
from constructs import Construct

from infra.capabilities.api import STAGE_NAME, Api, serve_at_host_root
from infra.capabilities.auth import Auth
from infra.capabilities.cache import Cache
from infra.capabilities.data import Data
from infra.capabilities.functions import Functions
from infra.capabilities.grants import Grants
from infra.capabilities.media import Media
from infra.capabilities.monitoring import Monitoring
from infra.capabilities.network import Network
from infra.capabilities.queues import Queues
from infra.capabilities.runtime_config import RuntimeConfig
from infra.capabilities.search import Search
from infra.capabilities.websocket import WebSocket
from infra.catalog import HTTP_APIS
from infra.config import StageConfig

# One JSON object {variable: value}: every Chirp setting some function gets, as it gets it. The local cloud
# writes it to .local/cloud.env, so shells, tests and benchmarks see the deployment the functions see.
SETTINGS_OUTPUT = "SettingsEnvironment"


class ChirpStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs):
        super().__init__(scope, construct_id, **kwargs)
        network = Network(self, "Network", config=config)
        data = Data(self, "Data", config=config)
        queues = Queues(self, "Queues")
        cache = Cache(self, "Cache", config=config, network=network)
        search = Search(self, "Search", config=config, network=network)
        auth = Auth(self, "Auth", config=config)
        media = Media(self, "Media", config=config)
        runtime = RuntimeConfig(self, "RuntimeConfig", config=config)
        websocket = WebSocket(self, "WebSocket", config=config)
        grants = Grants(
            config=config,
            data=data,
            queues=queues,
            cache=cache,
            search=search,
            media=media,
            auth=auth,
            websocket=websocket,
        )
        functions = Functions(
            self,
            "Functions",
            config=config,
            network=network,
            data=data,
            queues=queues,
            search=search,
            media=media,
            grants=grants,
            websocket=websocket,
        )
        self.apis: dict[str, Api] = {}
        for name, http_api in HTTP_APIS.items():
            # Chirp's own API keeps its construct id "Api" (its URL must not change); every other is "<Name>Api", on
            # AWS in a nested stack of its own (StageConfig.nested_apis: the Mastodon API alone has over a hundred
            # resources).
            construct_id = "Api" if name == "chirp" else f"{name.title()}Api"
            nested = name != "chirp" and config.nested_apis
            scope = NestedStack(self, f"{construct_id}Stack") if nested else self
            self.apis[name] = api = Api(
                scope, construct_id, http_api=http_api, config=config, auth=auth, functions=functions.targets
            )
            if http_api.host_root and config.mastodon_domain:
                # The domain stays in this stack, where the API's construct was before it moved into its nested stack.
                serve_at_host_root(Construct(self, construct_id) if nested else api, api=api, config=config)
        apis = self.apis
        api = apis["chirp"]
        # A stage that logs needs API Gateway's account-level logging role, which Chirp's own API sets: every
        # other API's stage waits for it (on AWS the first deploy would otherwise fail on a missing role ARN).
        account = api.rest_api.node.find_child("Account")
        for name, each in apis.items():
            if name != "chirp":
                each.rest_api.deployment_stage.node.add_dependency(account)
        websocket.stage.node.add_dependency(account)
        websocket.log_to(api.access_logs)
        Monitoring(
            self,
            "Monitoring",
            config=config,
            functions=functions.functions,
            consumers=functions.consumers(),
            failure_queues=queues.failure_queues(),
            rest_apis={name: each.rest_api for name, each in apis.items()},
        )
        outputs = {
            "RestApiId": api.rest_api.rest_api_id,
            "RestApiStage": STAGE_NAME,
            "ApiUrl": api.rest_api.url,
            "MastodonApiId": apis["mastodon"].rest_api.rest_api_id,
            # Where Mastodon clients point: the custom domain's root (None: no domain configured).
            "MastodonDomain": config.mastodon_domain or "",
            "UserPoolId": auth.user_pool.user_pool_id,
            "UserPoolClientId": auth.client.user_pool_client_id,
            "TweetsTable": data.tweets.table_name,
            "SocialTable": data.social.table_name,
            "NotificationsTable": data.notifications.table_name,
            "IdempotencyTable": data.idempotency.table_name,
            "EngagementsTable": data.engagements.table_name,
            "ConnectionsTable": data.connections.table_name,
            "WebSocketApiId": websocket.api.api_id,
            "WebSocketUrl": websocket.stage.url,
            "NewTweetsStream": data.streams["new_tweets"].stream_name,
            "EngagementsStream": data.streams["engagements"].stream_name,
            "MediaBucket": media.bucket.bucket_name,
            "ConsumerFailureQueueUrl": queues.queues["consumer_failures"].queue_url,
            "FanoutQueueUrl": queues.queues["fanout_pages"].queue_url,
            "DegradationManualParameter": runtime.parameters["degradation_manual"].parameter_name,
            "DegradationAutoParameter": runtime.parameters["degradation_auto"].parameter_name,
            SETTINGS_OUTPUT: self.to_json_string(dict(sorted(functions.settings_environment.items()))),
        }
        for name, value in outputs.items():
            CfnOutput(self, name, value=value)
