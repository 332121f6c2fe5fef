"""The media bucket: clients upload with presigned URLs; ObjectCreated under uploads/ triggers transcoding."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_s3 as s3
from constructs import Construct

from chirp.media.model import UNATTACHED_TAG
from infra.config import StageConfig


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
                    prefix="media/",
                    tag_filters=dict([UNATTACHED_TAG]),
                    expiration=Duration.days(1),
                )
            ],
            removal_policy=config.removal_policy,
        )
        self.buckets = {"media": self.bucket}
