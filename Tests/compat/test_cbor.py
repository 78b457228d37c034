"""CBOR 1.1 (`application/x-amz-cbor-1.1`), what the AWS SDK for Java v2 and the KCL send by default
(KINESIS-SEMANTICS §1.3): the core scenario over real HTTP with `cbor2` bodies signed by botocore's SigV4
signer, against a single node and through the router of a three-node cluster, both checking signatures.

Conventions checked: blobs are byte strings; timestamps are tag 1 with integer epoch milliseconds in
replies and are accepted in requests as tag 1 with integer milliseconds or float seconds; errors are CBOR
maps {__type, message} with `x-amzn-ErrorType` and the JSON status; indefinite-length items are read.
"""

from __future__ import annotations

import time

import boto3
import cbor2
import pytest
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from cluster import cluster_with_router
from conftest import REGION, RillServer, unique_name

AKID, SECRET = "AKIDRILLCBOR", "rill-cbor-secret"
CBOR = "application/x-amz-cbor-1.1"
HTTP = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=5, read=30))


def keep_tag(value, *_):
    """cbor2 turns tag 1 into a datetime (and fails on milliseconds); keep the tag to check the wire form."""
    return cbor2.CBORTag(1, value)


class CborKinesis:
    """Kinesis calls in CBOR: cbor2 bodies, botocore SigV4 signatures, urllib3 transport."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.signer = SigV4Auth(Credentials(AKID, SECRET), "kinesis", REGION)

    def raw(self, operation: str, body: bytes, tamper: bool = False):
        request = AWSRequest(method="POST", url=self.endpoint + "/", data=body,
                             headers={"Content-Type": CBOR, "X-Amz-Target": f"Kinesis_20131202.{operation}"})
        self.signer.add_auth(request)
        prepared = request.prepare()
        # Signed over `body`: one changed byte (same length) must be refused, which shows the signature covers
        # the CBOR bytes as sent, before any transcoding.
        sent = body[:-1] + bytes([body[-1] ^ 0x01]) if tamper else body
        response = HTTP.request("POST", prepared.url, body=sent, headers=dict(prepared.headers))
        decoded = cbor2.loads(response.data, semantic_decoders={1: keep_tag}) if response.data else None
        return response, decoded

    def call(self, operation: str, params: dict | None = None, retry_for: float = 20.0) -> dict:
        # Retry what an SDK retries (503 ServiceUnavailable while a cluster's leaders settle, 500), with a deadline.
        deadline = time.monotonic() + retry_for
        while True:
            response, decoded = self.raw(operation, cbor2.dumps(params or {}))
            if response.status not in (500, 503) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert response.status == 200, f"{operation}: {response.status} {decoded}"
        assert response.headers["Content-Type"] == CBOR
        return decoded or {}

    def error(self, operation: str, body: bytes, tamper: bool = False) -> tuple[int, str, dict]:
        response, decoded = self.raw(operation, body, tamper)
        assert response.status != 200, f"{operation} succeeded: {decoded}"
        assert response.headers["Content-Type"] == CBOR
        assert isinstance(decoded, dict) and decoded["__type"] == response.headers["x-amzn-ErrorType"]
        return response.status, response.headers["x-amzn-ErrorType"], decoded

    def wait_active(self, name: str, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            summary = self.call("DescribeStreamSummary", {"StreamName": name})["StreamDescriptionSummary"]
            if summary["StreamStatus"] == "ACTIVE":
                return summary
            time.sleep(0.05)
        raise AssertionError(f"{name} not ACTIVE within {timeout}s")


# Indefinite-length framing. cbor2 only writes definite lengths, so the indefinite heads (0x5f, 0x7f, 0x9f,
# 0xbf) and the "break" byte (0xff) are put around items cbor2 encoded, which is exactly RFC 8949 §3.2.
def indefinite_map(pairs: list[tuple[str, bytes]]) -> bytes:
    return b"\xbf" + b"".join(cbor2.dumps(key) + value for key, value in pairs) + b"\xff"


def indefinite_array(items: list[bytes]) -> bytes:
    return b"\x9f" + b"".join(items) + b"\xff"


def indefinite_bytes(chunks: list[bytes]) -> bytes:
    return b"\x5f" + b"".join(cbor2.dumps(chunk) for chunk in chunks) + b"\xff"


def indefinite_text(chunks: list[str]) -> bytes:
    return b"\x7f" + b"".join(cbor2.dumps(chunk) for chunk in chunks) + b"\xff"


def millis(tag) -> int:
    assert isinstance(tag, cbor2.CBORTag) and tag.tag == 1 and isinstance(tag.value, int), f"not tag 1 + integer: {tag!r}"
    return tag.value


def read_shard(client: CborKinesis, stream: str, shard: str, **iterator) -> list[dict]:
    params = {"StreamName": stream, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON", **iterator}
    it = client.call("GetShardIterator", params)["ShardIterator"]
    page = client.call("GetRecords", {"ShardIterator": it, "Limit": 1000})
    assert isinstance(page["MillisBehindLatest"], int)
    return page["Records"]


def scenario(client: CborKinesis, json_client) -> None:
    name = unique_name("cbor")
    assert client.call("CreateStream", {"StreamName": name, "ShardCount": 2}) == {}
    client.wait_active(name)
    description = client.call("DescribeStream", {"StreamName": name})["StreamDescription"]
    created = millis(description["StreamCreationTimestamp"])
    assert abs(created - time.time() * 1000) < 120_000
    arn = description["StreamARN"]
    shards = client.call("ListShards", {"StreamName": name})["Shards"]
    assert [s["ShardId"] for s in shards] == ["shardId-000000000000", "shardId-000000000001"]

    before = int(time.time() * 1000)
    put = client.call("PutRecord", {"StreamName": name, "Data": b"\x00\xffone", "PartitionKey": "a"})
    assert put["ShardId"].startswith("shardId-") and put["SequenceNumber"].isdigit()
    batch = [{"Data": bytes([i]) * i, "PartitionKey": f"k{i}"} for i in range(6)]  # Data b"" included
    answer = client.call("PutRecords", {"StreamName": name, "Records": batch})
    assert answer["FailedRecordCount"] == 0 and len(answer["Records"]) == 6
    # Indefinite map, array, text and byte strings, as Jackson's generator may write them.
    record = indefinite_map([("Data", indefinite_bytes([b"chun", b"ked"])), ("PartitionKey", cbor2.dumps("z"))])
    body = indefinite_map([("StreamName", indefinite_text([name[:3], name[3:]])), ("Records", indefinite_array([record]))])
    response, decoded = client.raw("PutRecords", body)
    assert response.status == 200 and decoded["FailedRecordCount"] == 0, decoded
    after = int(time.time() * 1000)

    records = [r for shard in shards for r in read_shard(client, name, shard["ShardId"])]
    assert sorted(r["Data"] for r in records) == sorted([b"\x00\xffone", b"chunked"] + [r["Data"] for r in batch])
    arrivals = sorted(millis(r["ApproximateArrivalTimestamp"]) for r in records)
    assert before - 1000 <= arrivals[0] and arrivals[-1] <= after + 1000
    # A JSON client reads the same bytes.
    shard0 = json_client.get_shard_iterator(StreamName=name, ShardId=put["ShardId"], ShardIteratorType="TRIM_HORIZON")
    json_data = [r["Data"] for r in json_client.get_records(ShardIterator=shard0["ShardIterator"])["Records"]]
    assert b"\x00\xffone" in json_data

    # AT_TIMESTAMP with tag 1: integer milliseconds, and float seconds (RFC 8949's form) meaning the same.
    shard = put["ShardId"]
    all_in_shard = read_shard(client, name, shard)
    last = millis(all_in_shard[-1]["ApproximateArrivalTimestamp"])
    for timestamp in (cbor2.CBORTag(1, last), cbor2.CBORTag(1, last / 1000.0)):
        later = read_shard(client, name, shard, ShardIteratorType="AT_TIMESTAMP", Timestamp=timestamp)
        assert later and all(millis(r["ApproximateArrivalTimestamp"]) >= last for r in later)
        assert later[-1]["SequenceNumber"] == all_in_shard[-1]["SequenceNumber"]
    past_end = read_shard(client, name, shard, ShardIteratorType="AT_TIMESTAMP", Timestamp=cbor2.CBORTag(1, last + 1))
    assert all(millis(r["ApproximateArrivalTimestamp"]) > last for r in past_end)

    client.call("SplitShard", {"StreamName": name, "ShardToSplit": "shardId-000000000000",
                               "NewStartingHashKey": str(2**126)})
    client.wait_active(name)
    assert len(client.call("ListShards", {"StreamName": name})["Shards"]) == 4

    consumer = client.call("RegisterStreamConsumer", {"StreamARN": arn, "ConsumerName": "cbor-app"})["Consumer"]
    millis(consumer["ConsumerCreationTimestamp"])
    listed = client.call("ListStreamConsumers", {"StreamARN": arn})["Consumers"]
    assert [c["ConsumerName"] for c in listed] == ["cbor-app"]

    # A tag key named like a blob member stays a tag key.
    client.call("AddTagsToStream", {"StreamName": name, "Tags": {"Data": "not-a-blob", "team": "kcl"}})
    tags = client.call("ListTagsForStream", {"StreamName": name})["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("Data", "not-a-blob"), ("team", "kcl")]

    status, code, error = client.error("DescribeStream", cbor2.dumps({"StreamName": name + "-missing"}))
    assert (status, code) == (400, "ResourceNotFoundException")
    assert error["message"] == f"Stream {name}-missing under account 000000000000 not found."
    status, code, error = client.error("PutRecord", b"\xa1\x6aStreamName\x7b\xff\xff\xff\xff\xff\xff\xff\xff")
    assert (status, code) == (400, "SerializationException") and "Message" in error
    status, code, _ = client.error("ListShards", cbor2.dumps({"StreamName": name}), tamper=True)
    assert (status, code) == (400, "InvalidSignatureException")


def credentials_file(path) -> str:
    path.write_text(f"{AKID}:{SECRET}\n")
    return str(path)


def json_client(endpoint: str):
    return boto3.client("kinesis", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=AKID,
                        aws_secret_access_key=SECRET, config=Config(retries={"max_attempts": 1}))


def test_cbor_scenario_on_a_single_node(rill_bin, tmp_path):
    server = RillServer(rill_bin, tmp_path, extra_args=["--credentials-file", credentials_file(tmp_path / "keys")])
    server.start()
    try:
        scenario(CborKinesis(server.endpoint), json_client(server.endpoint))
        assert server.alive()
    finally:
        assert server.stop() == 0, server.log_tail()


def test_cbor_scenario_through_the_router_of_a_cluster(rill_bin, tmp_path):
    extra = ["--credentials-file", credentials_file(tmp_path / "keys")]
    with cluster_with_router(rill_bin, tmp_path, extra=extra) as (cluster, router):
        scenario(CborKinesis(router.endpoint), json_client(router.endpoint))
        # Straight to a node that may lead nothing: it forwards JSON to the leaders after transcoding (GetRecords
        # comes back in CBOR, written by the leader), resharding included (its seal of a parent led elsewhere is
        # a call of its own, not the client's one hop).
        scenario(CborKinesis(cluster.nodes[2].endpoint), json_client(cluster.nodes[2].endpoint))
