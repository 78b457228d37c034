"""`rill node --admin HOST:PORT`: the operator endpoints on their own address (docs/configuration.md).

/metrics, /admin/checksums and /admin/faults move there; /health, /ready and /admin/status answer on both,
and Kinesis calls only on the API address. Every log line carries the node's id, zone and role, and the
lines of a client request its x-amzn-RequestId.
"""

import json
import urllib.error
import urllib.request

from conftest import free_port, unique_name


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_admin_address_serves_metrics_and_takes_them_off_the_api(server_factory):
    admin_port = free_port()
    node = server_factory(node_id=1, az="az-b", extra_args=[
        "--admin", f"127.0.0.1:{admin_port}", "--log-format", "json", "--log-level", "debug"]).start()
    admin = f"http://127.0.0.1:{admin_port}"
    try:
        client = node.client()
        name = unique_name("admin")
        client.create_stream(StreamName=name, ShardCount=1)
        client.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
        client.put_record(StreamName=name, PartitionKey="k", Data=b"x")

        status, text = get(admin + "/metrics")
        assert status == 200
        assert "rill_raft_snapshot_installs_total" in text
        assert 'rill_api_requests_total{operation="PutRecord",status="200"}' in text.replace(" ", "")
        for path in ["/health", "/ready", "/admin/status", "/admin/checksums"]:
            assert get(admin + path)[0] == 200, path

        for path in ["/metrics", "/admin/checksums", "/admin/faults"]:
            assert get(node.endpoint + path)[0] == 403, path
        for path in ["/health", "/ready"]:
            assert get(node.endpoint + path)[0] == 200, path
        assert json.loads(get(node.endpoint + "/admin/status")[1])["node"] == 1

        # Kinesis calls are the API address's alone.
        request = urllib.request.Request(admin + "/", data=b"{}", method="POST",
                                         headers={"X-Amz-Target": "Kinesis_20131202.ListStreams"})
        try:
            urllib.request.urlopen(request, timeout=10)
            raise AssertionError("the admin address served a Kinesis call")
        except urllib.error.HTTPError as e:
            assert e.code == 403

        # A refused call is logged (at debug) with the id the client got, and without its partition key.
        try:
            client.put_record(StreamName=name + "-missing", PartitionKey="pk-do-not-log-me", Data=b"secret-bytes")
            raise AssertionError("PutRecord on a missing stream succeeded")
        except client.exceptions.ResourceNotFoundException as e:
            request_id = e.response["ResponseMetadata"]["RequestId"]
    finally:
        assert node.stop() == 0
    lines = [json.loads(line) for line in node.log_path.read_text().splitlines() if line.startswith("{")]
    assert lines and all(line["rill.node"] == "1" and line["rill.az"] == "az-b" and line["rill.role"] == "node"
                         for line in lines)
    assert any(line["message"] == "admin listening" and line["address"] == f"127.0.0.1:{admin_port}" for line in lines)
    refused = [line for line in lines if line["message"] == "request refused"]
    assert any(line.get("request.id") == request_id for line in refused), refused
    text = node.log_path.read_text()
    assert "pk-do-not-log-me" not in text and "secret-bytes" not in text and "c2VjcmV0LWJ5dGVz" not in text
