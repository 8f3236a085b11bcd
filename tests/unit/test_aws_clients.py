"""services/aws_clients.py: clients for a configured endpoint keep its host whole (no model host prefix)."""

from lamb.services.aws_clients import AwsClients, _is_aws_host


def test_aws_hosts():
    assert _is_aws_host("https://servicediscovery.us-east-1.amazonaws.com")
    assert _is_aws_host("https://ec2.cn-north-1.amazonaws.com.cn")
    assert not _is_aws_host("http://127.0.0.1:5000") and not _is_aws_host("http://localhost:4566")


def test_configured_endpoint_has_no_host_prefix(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    client = AwsClients("us-east-1").get("servicediscovery")
    assert client.meta.endpoint_url == "http://127.0.0.1:9" and client.meta.config.inject_host_prefix is False
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    assert AwsClients("us-east-1").get("servicediscovery").meta.config.inject_host_prefix is True
