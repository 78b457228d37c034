"""HTTP/2 on the API port, cleartext with prior knowledge (h2c), beside HTTP/1.1: curl's --http2-prior-knowledge
with SigV4 against a node that checks signatures, JSON and CBOR calls from the `h2` package, and SubscribeToShard
streams over HTTP/2: every record in order, several subscriptions on one connection, one subscription per consumer
and shard, flow control, ChildShards at a shard's end, and the five-minute lifetime (the node's wall clock moved
forward through /admin/faults, --fault-injection)."""

from __future__ import annotations

import base64
import json
import subprocess
import time
import urllib.request

import cbor2
import pytest

from conftest import create_stream, shard_id, unique_name
from h2client import H2Client, event_payloads, wait_until_ready

CREDENTIALS = "AKIDEXAMPLE:secret"


@pytest.fixture(scope="module")
def h2node(server_factory, tmp_path_factory):
    """A node that verifies SigV4 signatures and lets the tests move its clock."""
    credentials = tmp_path_factory.mktemp("h2-credentials") / "credentials"
    credentials.write_text(CREDENTIALS + "\n")
    server = server_factory(extra_args=["--fault-injection", "--credentials-file", str(credentials)])
    server.start()
    wait_until_ready(server)
    yield server
    assert server.stop() == 0, server.log_tail()


def curl_h2c(port: int, operation: str, body: dict) -> tuple[str, int, dict]:
    """(HTTP version, status, JSON body) of one call by curl over h2c, signed by curl's own SigV4."""
    proc = subprocess.run(
        ["curl", "-sS", "--http2-prior-knowledge", "--aws-sigv4", "aws:amz:us-east-1:kinesis", "--user", CREDENTIALS,
         "-H", f"X-Amz-Target: Kinesis_20131202.{operation}", "-H", "Content-Type: application/x-amz-json-1.1",
         "--data-binary", json.dumps(body), "-w", "\n%{http_version} %{http_code}", f"http://127.0.0.1:{port}/"],
        capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    text, _, trailer = proc.stdout.rpartition("\n")
    version, status = trailer.split()
    return version, int(status), json.loads(text) if text.strip() else {}


def register_consumer(client, stream: str, name: str = "h2") -> str:
    arn = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    consumer = client.register_stream_consumer(StreamARN=arn, ConsumerName=name)["Consumer"]["ConsumerARN"]
    deadline = time.monotonic() + 30
    while client.describe_stream_consumer(ConsumerARN=consumer)["ConsumerDescription"]["ConsumerStatus"] != "ACTIVE":
        assert time.monotonic() < deadline, "consumer not ACTIVE"
        time.sleep(0.05)
    return consumer


def subscribe_body(consumer: str, shard: int, position: str = "LATEST") -> dict:
    return {"ConsumerARN": consumer, "ShardId": shard_id(shard), "StartingPosition": {"Type": position}}


def admin_status(server) -> dict:
    with urllib.request.urlopen(server.endpoint + "/admin/status", timeout=10) as answer:
        return json.load(answer)


def records_of(stream) -> list[tuple[bytes, str]]:
    """(data, sequence number) of every record the subscription delivered so far, in order."""
    out = []
    for kind, payload in event_payloads(stream):
        if kind == "SubscribeToShardEvent":
            out += [(base64.b64decode(r["Data"]), r["SequenceNumber"]) for r in payload["Records"]]
    return out


def jump_clock(server, millis: int) -> None:
    # The node checks signatures, so its admin calls on the API port must be signed too (docs/security.md).
    proc = subprocess.run(
        ["curl", "-sS", "--aws-sigv4", "aws:amz:us-east-1:kinesis", "--user", CREDENTIALS, "-X", "POST",
         "--data-binary", json.dumps({"clock": {"jumpMillis": millis}}), "-w", "\n%{http_code}",
         server.endpoint + "/admin/faults"],
        capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    body, _, status = proc.stdout.rpartition("\n")
    assert status == "200", body


def test_curl_h2c_lists_creates_describes_and_puts(h2node):
    port = h2node.port
    name = unique_name("curl")
    version, status, body = curl_h2c(port, "ListStreams", {})
    assert (version, status) == ("2", 200) and "StreamNames" in body
    version, status, body = curl_h2c(port, "CreateStream", {"StreamName": name, "ShardCount": 1})
    assert (version, status) == ("2", 200), body
    deadline = time.monotonic() + 10
    while True:
        version, status, body = curl_h2c(port, "DescribeStream", {"StreamName": name})
        assert (version, status) == ("2", 200), body
        if body["StreamDescription"]["StreamStatus"] == "ACTIVE":
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    version, status, body = curl_h2c(port, "PutRecord", {
        "StreamName": name, "PartitionKey": "k", "Data": base64.b64encode(b"over h2c").decode()})
    assert (version, status) == ("2", 200) and body["ShardId"] == shard_id(0), body
    # A wrong secret is refused over HTTP/2 as over HTTP/1.1: the signature is checked.
    proc = subprocess.run(
        ["curl", "-sS", "--http2-prior-knowledge", "--aws-sigv4", "aws:amz:us-east-1:kinesis", "--user",
         "AKIDEXAMPLE:wrong", "-H", "X-Amz-Target: Kinesis_20131202.ListStreams",
         "-H", "Content-Type: application/x-amz-json-1.1", "--data-binary", "{}", "-w", "\n%{http_code}",
         f"http://127.0.0.1:{port}/"], capture_output=True, text=True, timeout=30)
    assert proc.stdout.rsplit("\n", 1)[1] == "400" and "InvalidSignatureException" in proc.stdout
    # What curl wrote is there for an HTTP/1.1 client.
    records = h2node.client().get_records(ShardIterator=h2node.client().get_shard_iterator(
        StreamName=name, ShardId=shard_id(0), ShardIteratorType="TRIM_HORIZON")["ShardIterator"])["Records"]
    assert [r["Data"] for r in records] == [b"over h2c"]


def test_json_and_cbor_calls_share_one_h2c_connection(h2node):
    name = create_stream(h2node.client(), shards=1)
    client = H2Client(h2node.port)
    try:
        calls = [client.start("DescribeStreamSummary", {"StreamName": name}) for _ in range(20)]
        cbor = [client.start("PutRecord", cbor2.dumps({"StreamName": name, "PartitionKey": "k", "Data": bytes([i])}),
                             content_type="application/x-amz-cbor-1.1") for i in range(20)]
        client.pump_until(lambda: all(s.done for s in calls + cbor), 20, "40 answers")
        for stream in calls:
            assert stream.status == 200 and stream.json()["StreamDescriptionSummary"]["StreamName"] == name
        for stream in cbor:
            assert stream.status == 200 and stream.headers["content-type"] == "application/x-amz-cbor-1.1"
            assert cbor2.loads(bytes(stream.body))["ShardId"] == shard_id(0)
        missing = client.call("DescribeStream", {"StreamName": unique_name("missing")})
        assert missing.status == 400 and missing.json()["__type"] == "ResourceNotFoundException"
        assert missing.headers["x-amzn-errortype"] == "ResourceNotFoundException"
    finally:
        client.close()


def test_subscribe_to_shard_over_h2c(h2node):
    """Every record put during the subscription arrives, in order; two subscriptions share one connection; a second
    one to the same consumer and shard is refused; the stream ends after its lifetime, and the pair is free again."""
    kinesis = h2node.client()
    name = create_stream(kinesis, shards=2)
    consumer = register_consumer(kinesis, name)
    client = H2Client(h2node.port)
    try:
        first = client.start("SubscribeToShard", subscribe_body(consumer, 0))
        other = client.start("SubscribeToShard", subscribe_body(consumer, 1))
        client.pump_until(lambda: first.messages and other.messages, 15, "initial responses")
        assert first.status == 200 and other.status == 200
        assert event_payloads(first)[0] == ("initial-response", {})
        second = client.call("SubscribeToShard", subscribe_body(consumer, 0))
        assert second.status == 400 and second.json()["__type"] == "ResourceInUseException", second.body
        # The node shows both under way (what the console's consumers panel lists).
        assert [(s["consumerARN"], s["shardId"]) for s in admin_status(h2node)["subscriptions"]] == [
            (consumer, shard_id(0)), (consumer, shard_id(1))]

        sent = [f"record-{i}".encode() for i in range(300)]
        for start in range(0, len(sent), 100):
            kinesis.put_records(StreamName=name, Records=[
                {"Data": d, "PartitionKey": "k", "ExplicitHashKey": "0"} for d in sent[start:start + 100]])
        client.pump_until(lambda: len(records_of(first)) >= len(sent), 20, "every record")
        got = records_of(first)
        assert [data for data, _ in got] == sent
        assert [int(s) for _, s in got] == sorted(int(s) for _, s in got)
        events = [p for kind, p in event_payloads(first) if kind == "SubscribeToShardEvent"]
        with_records = [e for e in events if e["Records"]]
        assert with_records[-1]["ContinuationSequenceNumber"] == with_records[-1]["Records"][-1]["SequenceNumber"]
        assert all("MillisBehindLatest" in e for e in events)
        assert records_of(other) == []

        jump_clock(h2node, 300_001)
        client.pump_until(lambda: first.done and other.done, 15, "both subscriptions to end")
        assert first.ended and first.reset is None and other.ended
        deadline = time.monotonic() + 10
        while admin_status(h2node)["subscriptions"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert admin_status(h2node)["subscriptions"] == []
        again = client.start("SubscribeToShard", subscribe_body(consumer, 0))
        client.pump_until(lambda: again.messages, 15, "a new subscription after the end")
        assert again.status == 200
    finally:
        client.close()


def test_subscription_ends_with_child_shards_over_h2c(h2node):
    kinesis = h2node.client()
    name = create_stream(kinesis, shards=1)
    consumer = register_consumer(kinesis, name)
    client = H2Client(h2node.port)
    try:
        stream = client.start("SubscribeToShard", subscribe_body(consumer, 0, "TRIM_HORIZON"))
        client.pump_until(lambda: stream.messages, 15, "initial response")
        kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"before the split")
        kinesis.split_shard(StreamName=name, ShardToSplit=shard_id(0), NewStartingHashKey=str(2**127))
        client.pump_until(lambda: stream.done, 20, "the end of the closed shard")
        events = [p for kind, p in event_payloads(stream) if kind == "SubscribeToShardEvent"]
        assert [d for d, _ in records_of(stream)] == [b"before the split"]
        last = events[-1]
        assert "ContinuationSequenceNumber" not in last
        assert sorted(c["ShardId"] for c in last["ChildShards"]) == [shard_id(1), shard_id(2)]
        assert stream.ended and stream.reset is None
    finally:
        client.close()


def test_subscription_respects_the_clients_flow_control_window(h2node):
    """With the client's window shut, the node sends no more than the window allows and keeps the rest; as the
    window opens, every record arrives in order."""
    kinesis = h2node.client()
    name = create_stream(kinesis, shards=1)
    consumer = register_consumer(kinesis, name)
    sent = [bytes([i]) * 50_000 for i in range(40)]  # 2 MB, base64 in the events
    for start in range(0, len(sent), 10):
        kinesis.put_records(StreamName=name, Records=[{"Data": d, "PartitionKey": "k"} for d in sent[start:start + 10]])
    client = H2Client(h2node.port, window=16_384, auto_open_window=False)
    try:
        stream = client.start("SubscribeToShard", subscribe_body(consumer, 0, "TRIM_HORIZON"))
        client.pump_until(lambda: stream.status is not None, 15, "the response head")
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            client.pump(0.1)
        assert 0 < stream.received <= 16_384, stream.received
        deadline = time.monotonic() + 60
        while len(records_of(stream)) < len(sent):
            assert time.monotonic() < deadline, f"{len(records_of(stream))} of {len(sent)} records"
            client.open_window(stream, 256 << 10)
            client.pump(0.2)
        assert [d for d, _ in records_of(stream)] == sent
    finally:
        client.close()
