"""The health probes against the local cloud's real DynamoDB, Kinesis, Redis and OpenSearch."""

from chirp.adapters.probes import dependency_probes, opensearch_cluster_status
from chirp.health import check_dependencies


def test_given_the_local_cloud_when_every_probe_runs_then_each_answers(cloud_settings):
    report = check_dependencies(dependency_probes(cloud_settings))
    assert set(report.dependencies) == {"dynamodb", "kinesis", "redis", "opensearch"}
    assert report.ok, report.model_dump()


def test_given_the_real_opensearch_when_its_health_is_read_then_it_is_a_cluster_status(cloud_settings):
    assert opensearch_cluster_status(cloud_settings) in ("green", "yellow")
