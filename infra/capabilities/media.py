"""The media bucket: clients upload with presigned URLs; ObjectCreated under uploads/ triggers transcoding. On AWS,
CloudFront serves the transcoded variants (media/ only) to clients."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from chirp.media.model import UNATTACHED_TAG
from infra.config import StageConfig

# Where the transcoders write the variants: the only objects ever served to clients (never the raw uploads).
PROCESSED_PREFIX = "media/"
# A variant's key never gets other content (a new upload is a new media id): cached as long as CloudFront allows.
VARIANT_CACHE = Duration.days(365)


class Media(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig):
        super().__init__(scope, construct_id)
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
            removal_policy=config.removal_policy,
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="media/",
            cors=[
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods.PUT, s3.HttpMethods.GET],
                    allowed_origins=["*"],
                    allowed_headers=["*"],
                    max_age=3000,
                )
            ],
            # Raw uploads are read once, by the transcoder; a ticket unattached after a day is forgotten (the media
            # table's TTL), so its upload can never be attached: both go after a day, as do abandoned multipart parts.
            lifecycle_rules=[
                s3.LifecycleRule(
                    id=f"Forget{prefix.title().rstrip('/')}",
                    prefix=prefix,
                    expiration=Duration.days(1),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
                for prefix in ("uploads/", "videos/")
            ]
            # Variants of media never attached (the transcoders tag them so; attaching removes the tag).
            + [
                s3.LifecycleRule(
                    id="ForgetUnattachedMedia",
                    prefix=PROCESSED_PREFIX,
                    tag_filters=dict([UNATTACHED_TAG]),
                    expiration=Duration.days(1),
                )
            ],
            removal_policy=config.removal_policy,
        )
        self.buckets = {"media": self.bucket}
        self.distribution = self._delivery(config) if config.media_cdn else None

    def _delivery(self, config: StageConfig) -> cloudfront.Distribution:
        """CloudFront reading the bucket through Origin Access Control (the bucket stays private), HTTPS only."""
        # OAC's own grant covers every object of the bucket; this deny keeps raw uploads (uploads/, videos/) out of
        # reach whatever path a client asks for.
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudFrontServesProcessedMediaOnly",
                effect=iam.Effect.DENY,
                principals=[iam.ServicePrincipal("cloudfront.amazonaws.com")],
                actions=["s3:GetObject"],
                not_resources=[self.bucket.arn_for_objects(f"{PROCESSED_PREFIX}*")],
            )
        )
        return cloudfront.Distribution(
            self,
            "Delivery",
            comment=f"chirp-{config.name}: media variants",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(
                    self.bucket, origin_access_levels=[cloudfront.AccessLevel.READ]
                ),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy(
                    self,
                    "VariantCache",
                    comment="Variants are immutable per key: keyed on the path alone, kept a year",
                    default_ttl=VARIANT_CACHE,
                    max_ttl=VARIANT_CACHE,
                ),
                # Browsers may keep them too (S3 sends no Cache-Control of its own for the variants).
                response_headers_policy=cloudfront.ResponseHeadersPolicy(
                    self,
                    "VariantHeaders",
                    comment="Variants are immutable per key",
                    custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                        custom_headers=[
                            cloudfront.ResponseCustomHeader(
                                header="Cache-Control",
                                value=f"public, max-age={int(VARIANT_CACHE.to_seconds())}, immutable",
                                override=True,
                            )
                        ]
                    ),
                ),
                compress=False,  # WebP, H.264 and AAC are compressed already
            ),
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_logging=True,
            log_bucket=self.access_logs,
            log_file_prefix="cloudfront/",
        )
