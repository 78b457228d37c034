"""`rill node --admin HOST:PORT`: the operator endpoints on their own address (docs/configuration.md).

/metrics, /admin/checksums and /admin/faults move there; /health, /ready and /admin/status answer on both,
and Kinesis calls only on the API address. Every log line carries the node's id, zone and role, and the
lines of a client request its x-amzn-RequestId.

A node's /metrics also carries its peer transport's traffic by peer and connection kind (`rill_transport_*`).
"""

import json
import os
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

from cluster import Cluster
from conftest import DEFAULT_BIN, free_port, unique_name


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
        for path in ["/health", "/ready", "/admin/status", "/admin/checksums", "/console"]:
            assert get(admin + path)[0] == 200, path

        # The web console goes with /metrics (docs/console.md); the /admin/status it reads stays on the API.
        for path in ["/metrics", "/admin/checksums", "/admin/faults", "/console"]:
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


def transport_series(text: str) -> dict[tuple[str, str, str], float]:
    """(metric, peer, channel) -> value of the rill_transport_{frames,bytes}_{sent,received}_total series."""
    series = {}
    pattern = r"^(rill_transport_(?:frames|bytes)_(?:sent|received)_total)\{([^}]*)\}\s+(\S+)$"
    for match in re.finditer(pattern, text, re.M):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2)))
        series[(match.group(1), labels.get("peer", ""), labels.get("channel", ""))] = float(match.group(3))
    return series


def test_three_nodes_export_peer_traffic_by_peer_and_channel(tmp_path):
    cluster = Cluster(Path(os.environ.get("RILL_BIN", DEFAULT_BIN)), tmp_path).start()
    try:
        client = cluster.nodes[0].client()
        name = unique_name("traffic")
        client.create_stream(StreamName=name, ShardCount=1)
        client.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
        client.put_record(StreamName=name, PartitionKey="k", Data=b"x")

        # Raft runs leader to followers (the metadata group spans all three), so each node sends Raft traffic to
        # and hears it from some peer; gossip probes every member, so each pair exchanges frames on some channel.
        # The series are sampled once a second, hence the wait.
        def missing() -> list[str]:
            gaps = []
            for node in cluster.nodes:
                series = transport_series(node.get("/metrics")[1].decode())
                for metric in ["frames_sent", "frames_received", "bytes_sent", "bytes_received"]:
                    name = f"rill_transport_{metric}_total"
                    if sum(v for (m, _, channel), v in series.items() if m == name and channel == "raft") <= 0:
                        gaps.append(f"node {node.node_id}: no raft {metric}")
                for peer in (str(n.node_id) for n in cluster.nodes if n is not node):
                    for metric in ["frames_sent", "frames_received"]:
                        name = f"rill_transport_{metric}_total"
                        if sum(v for (m, p, _), v in series.items() if m == name and p == peer) <= 0:
                            gaps.append(f"node {node.node_id}: no {metric} with peer {peer}")
                    # Every channel is exported for a known peer, so a dashboard shows zeros, not gaps.
                    for channel in ["raft", "rpc", "gossip"]:
                        if ("rill_transport_frames_sent_total", peer, channel) not in series:
                            gaps.append(f"node {node.node_id}: no {channel} series for peer {peer}")
            return gaps

        deadline = time.monotonic() + 20
        gaps = missing()
        while gaps and time.monotonic() < deadline:
            time.sleep(0.2)
            gaps = missing()
        assert not gaps, gaps
        text = cluster.nodes[0].get("/metrics")[1].decode()
        assert "rill_transport_refused_handshakes_total" in text
    finally:
        cluster.stop()
