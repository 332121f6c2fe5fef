"""Media delivery as synthesized: on AWS a CloudFront distribution reads the private bucket through Origin Access
Control, over HTTPS only, and can reach the processed variants (media/) only; the local stage has none."""

from __future__ import annotations

import json

from aws_cdk.assertions import Template

from infra.catalog import FUNCTIONS

# The functions that render media URLs: they read the processed media (MediaAccess get="media/").
RENDERERS = {"api", "discovery", "mastodon", "notifier", "engagements"}  # the last two for Mastodon pushes


def _only(template: Template, resource_type: str) -> tuple[str, dict]:
    [(logical_id, resource)] = template.find_resources(resource_type).items()
    return logical_id, resource["Properties"]


def _media_bucket_id(template: Template) -> str:
    [logical_id] = [name for name in template.find_resources("AWS::S3::Bucket") if name.startswith("MediaBucket")]
    return logical_id


def _cloudfront_statements(template: Template) -> list[dict]:
    bucket_id = _media_bucket_id(template)
    [policy] = [
        resource["Properties"]["PolicyDocument"]
        for resource in template.find_resources("AWS::S3::BucketPolicy").values()
        if resource["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    return [
        statement
        for statement in policy["Statement"]
        if statement.get("Principal") == {"Service": "cloudfront.amazonaws.com"}
    ]


def _environment(template: Template, name: str) -> dict:
    [spec] = [spec for spec in FUNCTIONS if spec.name == name]
    [function] = [
        resource["Properties"]
        for resource in template.find_resources("AWS::Lambda::Function").values()
        if resource["Properties"].get("Description") == spec.description
    ]
    return function["Environment"]["Variables"]


def test_given_an_aws_stage_when_synthesized_then_cloudfront_reads_the_bucket_through_origin_access_control(
    aws_template,
):
    oac_id, oac = _only(aws_template, "AWS::CloudFront::OriginAccessControl")
    assert oac["OriginAccessControlConfig"]["OriginAccessControlOriginType"] == "s3"
    assert oac["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    _, distribution = _only(aws_template, "AWS::CloudFront::Distribution")
    [origin] = distribution["DistributionConfig"]["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
    assert origin["DomainName"] == {"Fn::GetAtt": [_media_bucket_id(aws_template), "RegionalDomainName"]}
    assert origin["S3OriginConfig"]["OriginAccessIdentity"] == ""  # no legacy OAI


def test_given_an_aws_stage_when_synthesized_then_viewers_are_redirected_to_https_and_may_only_read(aws_template):
    _, distribution = _only(aws_template, "AWS::CloudFront::Distribution")
    config = distribution["DistributionConfig"]
    behaviours = [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]
    for behaviour in behaviours:
        assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
        assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    assert config["Logging"]["Prefix"] == "cloudfront/"


def test_given_an_aws_stage_when_synthesized_then_cloudfront_may_read_only_the_processed_media(aws_template):
    distribution_id, _ = _only(aws_template, "AWS::CloudFront::Distribution")
    statements = _cloudfront_statements(aws_template)
    [allow] = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Action"] == "s3:GetObject"
    assert distribution_id in json.dumps(allow["Condition"])  # this distribution, no other
    [deny] = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Action"] == "s3:GetObject"
    # Everything but media/*: the raw uploads under uploads/ and videos/ are never served, whatever the path.
    bucket_arn = {"Fn::GetAtt": [_media_bucket_id(aws_template), "Arn"]}
    assert deny["NotResource"] == {"Fn::Join": ["", [bucket_arn, "/media/*"]]}


def test_given_an_aws_stage_when_synthesized_then_the_renderers_get_the_distributions_https_url(aws_template):
    distribution_id, _ = _only(aws_template, "AWS::CloudFront::Distribution")
    expected = {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}]]}
    for spec in FUNCTIONS:
        environment = _environment(aws_template, spec.name)
        assert environment.get("MEDIA_BASE_URL") == (expected if spec.name in RENDERERS else None), spec.name


def test_given_the_local_stage_when_synthesized_then_there_is_no_distribution_and_urls_stay_presigned(
    local_template,
):
    local_template.resource_count_is("AWS::CloudFront::Distribution", 0)
    local_template.resource_count_is("AWS::CloudFront::OriginAccessControl", 0)
    assert not _cloudfront_statements(local_template)
    for name in RENDERERS:
        assert "MEDIA_BASE_URL" not in _environment(local_template, name)
