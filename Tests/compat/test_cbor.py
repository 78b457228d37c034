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


def shard_key(shard: int, shards: int = 4) -> str:
    """An explicit hash key inside shard `shard` of a stream created with `shards` even shards."""
    return str(shard * (2**128 // shards) + 5)


def mixed_put_records(stream: str) -> tuple[bytes, list[int]]:
    """A PutRecords for a four-shard stream, as Jackson may write it (indefinite map and array, half the records
    indefinite maps with chunked data): 300 records of 4 KiB for shard 0, over its 1 MiB a second so the last ones
    are throttled, interleaved with three small records for each other shard. Returns the body and each record's
    shard."""
    items, shards = [], []
    for i in range(309):
        shard = 0 if i % 34 else 1 + (i // 34) % 3
        data = bytes([i % 251]) * (4096 if shard == 0 else 10)
        if i % 2:
            items.append(indefinite_map([("Data", indefinite_bytes([data[:7], data[7:]])),
                                         ("PartitionKey", indefinite_text(["p", str(i)])),
                                         ("ExplicitHashKey", cbor2.dumps(shard_key(shard)))]))
        else:
            items.append(cbor2.dumps({"PartitionKey": f"p{i}", "Data": data, "ExplicitHashKey": shard_key(shard)}))
        shards.append(shard)
    return indefinite_map([("Records", indefinite_array(items)), ("StreamName", cbor2.dumps(stream))]), shards


def outcome(answer: dict, stream: str) -> list[tuple[str, str]]:
    """Each record's shard or error code, after checking what every result must hold."""
    results = []
    for entry in answer["Records"]:
        if "ErrorCode" in entry:
            assert entry["ErrorCode"] == "ProvisionedThroughputExceededException", entry
            assert entry["ErrorMessage"].startswith("Rate exceeded for shard shardId-000000000000 in stream " + stream)
            results.append(("", entry["ErrorCode"]))
        else:
            assert entry["SequenceNumber"].isdigit(), entry
            results.append((entry["ShardId"], ""))
    assert answer["FailedRecordCount"] == sum(1 for _, code in results if code)
    return results


def test_cbor_put_records_split_by_the_router_answers_as_a_node_does(rill_bin, tmp_path):
    """The router splits a CBOR PutRecords by shard without JSON and merges the leaders' CBOR answers: the client
    gets what a node answers the same call (here the node leading the throttled shard, so both judge its records
    one by one), and what a JSON client gets through the router."""
    extra = ["--credentials-file", credentials_file(tmp_path / "keys")]
    with cluster_with_router(rill_bin, tmp_path, extra=extra, node_extra=["--throughput-limits"]) as (cluster, router):
        via_router = CborKinesis(router.endpoint)
        names = {path: unique_name(f"split-{path}") for path in ("router", "node", "json")}
        for name in names.values():
            via_router.call("CreateStream", {"StreamName": name, "ShardCount": 4})
        for name in names.values():
            via_router.wait_active(name)
            for shard in range(4):
                cluster.leader_of(name, f"shardId-{shard:012d}", timeout=30)

        body, shards = mixed_put_records(names["router"])
        response, routed = via_router.raw("PutRecords", body)
        assert response.status == 200 and response.headers["Content-Type"] == CBOR, routed
        routed_outcome = outcome(routed, names["router"])
        throttled = sum(1 for _, code in routed_outcome if code)
        assert 20 <= throttled <= 60, routed_outcome  # ~256 of 300 records of 4 KiB fit in 1 MiB
        assert all(shard == f"shardId-{s:012d}" for (shard, code), s in zip(routed_outcome, shards) if not code)
        assert all(s == 0 for (_, code), s in zip(routed_outcome, shards) if code)

        # Straight to the node leading shard 0, which judges its records one by one as the router's leader did (a
        # node that does not lead it admits a forwarded part whole or not at all). Should leadership move during
        # the call, the comparison is made again on a fresh stream.
        for attempt in range(3):
            name = names["node"] if attempt == 0 else unique_name("split-node")
            if attempt:
                via_router.call("CreateStream", {"StreamName": name, "ShardCount": 4})
                via_router.wait_active(name)
            leader = cluster.leader_of(name, "shardId-000000000000", timeout=30)
            body, _ = mixed_put_records(name)
            response, direct = CborKinesis(cluster.node(leader).endpoint).raw("PutRecords", body)
            assert response.status == 200, direct
            if cluster.leader_of(name, "shardId-000000000000", timeout=30) == leader:
                break
        assert outcome(direct, name) == routed_outcome

        decoded = cbor2.loads(mixed_put_records(names["json"])[0])
        answer = json_client(router.endpoint).put_records(**decoded)
        assert outcome(answer, names["json"]) == routed_outcome

        # What was written is what was sent, byte for byte: shard 2's records, in request order.
        sent = [r for r, s in zip(cbor2.loads(mixed_put_records(names["router"])[0])["Records"], shards) if s == 2]
        stored = read_shard(via_router, names["router"], "shardId-000000000002")
        assert [r["Data"] for r in stored] == [r["Data"] for r in sent]
        assert [r["PartitionKey"] for r in stored] == [r["PartitionKey"] for r in sent]

        # A record with a malformed explicit hash key fails the call as a whole, the same through either.
        bad = indefinite_map([("StreamName", cbor2.dumps(names["router"])), ("Records", indefinite_array([
            cbor2.dumps({"Data": b"x", "PartitionKey": "a", "ExplicitHashKey": shard_key(1)}),
            cbor2.dumps({"Data": b"y", "PartitionKey": "b", "ExplicitHashKey": "not-a-number"}),
        ]))])
        from_router = via_router.error("PutRecords", bad)
        from_node = CborKinesis(cluster.nodes[2].endpoint).error("PutRecords", bad)
        assert from_router == from_node and from_router[:2] == (400, "ValidationException"), (from_router, from_node)
        # Malformed CBOR is still a SerializationException through the router.
        assert via_router.error("PutRecords", body[:-40])[1] == "SerializationException"
        assert router.alive() and all(node.alive() for node in cluster.nodes)
