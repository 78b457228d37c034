"""On-demand streams that follow their traffic (issue 20), on three real nodes and a router.

The nodes run with short windows (`--on-demand-split-after 2 --on-demand-merge-after 3 --on-demand-cooldown 2`)
so a test does not wait the default 30 s of heat or 15 min of cold; the decisions themselves are the
production ones. A writer puts records whose hash keys all lie in a narrow band of one shard, through the
router and straight to the nodes, at about twice a shard's 1,000 records/s: the controller must split that
shard at the median of the keys written (inside the band, not the middle of the range), and once the writer
stops, merge two cold neighbours back toward the on-demand floor of four shards. Every acknowledged record
must still be readable afterwards, across the parents and children.
"""

from __future__ import annotations

import hashlib
import subprocess
import time
import uuid

import pytest

from cluster import cluster_with_router
from conftest import expect_error, wait_active

ON_DEMAND_FLAGS = ["--on-demand-split-after", "2", "--on-demand-merge-after", "3", "--on-demand-cooldown", "2"]
MAX_HASH = 2**128 - 1


@pytest.fixture(scope="module")
def cluster_and_router(rill_bin, tmp_path_factory):
    with cluster_with_router(rill_bin, tmp_path_factory.mktemp("on-demand"), node_extra=ON_DEMAND_FLAGS) as both:
        yield both


def hash_of(key: str) -> int:
    return int.from_bytes(hashlib.md5(key.encode()).digest(), "big")


def keys_in_band(low: int, high: int, count: int) -> list[str]:
    """Partition keys whose MD5 hash key lies in [low, high]."""
    keys: list[str] = []
    n = 0
    while len(keys) < count:
        key = f"k-{n}"
        if low <= hash_of(key) <= high:
            keys.append(key)
        n += 1
        assert n < 5_000_000, "could not find enough keys in the band"
    return keys


def open_shards(client, stream: str) -> list[dict]:
    shards = client.list_shards(StreamName=stream, ShardFilter={"Type": "AT_LATEST"})["Shards"]
    return sorted(shards, key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]))


def all_shards(client, stream: str) -> list[dict]:
    return client.list_shards(StreamName=stream)["Shards"]


def read_everything(client, stream: str) -> list[bytes]:
    data: list[bytes] = []
    for shard in all_shards(client, stream):
        iterator = client.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        deadline = time.monotonic() + 30
        while iterator and time.monotonic() < deadline:
            page = client.get_records(ShardIterator=iterator, Limit=10_000)
            data += [r["Data"] for r in page["Records"]]
            if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                if "EndingSequenceNumber" not in shard["SequenceNumberRange"]:
                    break
            iterator = page.get("NextShardIterator")
    return data


def test_hot_shard_splits_where_its_load_is_then_cold_neighbours_merge(cluster_and_router, rill_bin):
    cluster, router = cluster_and_router
    client = router.client(retries={"max_attempts": 10, "mode": "standard"})
    stream = f"on-demand-{uuid.uuid4().hex[:8]}"
    client.create_stream(StreamName=stream, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    wait_active(client, stream, timeout=30)
    shards = open_shards(client, stream)
    assert len(shards) == 4
    # A band in the lower fifth of the second shard: a split in the middle of its range would miss it.
    start = int(shards[1]["HashKeyRange"]["StartingHashKey"])
    end = int(shards[1]["HashKeyRange"]["EndingHashKey"])
    low, high = start + (end - start) // 20, start + (end - start) // 5
    keys = keys_in_band(low, high, 400)

    # The controller refuses nothing to itself, but clients still may not reshard an on-demand stream.
    expect_error(lambda: client.split_shard(StreamName=stream, ShardToSplit=shards[1]["ShardId"],
                                            NewStartingHashKey=str(start + 2**100)), "ValidationException")

    entries = [router] + cluster.nodes
    writers = [member.client(retries={"max_attempts": 10, "mode": "standard"}) for member in entries]
    acknowledged: set[bytes] = set()
    split_seen = None
    deadline = time.monotonic() + 60
    n = 0
    while time.monotonic() < deadline:
        batch_started = time.monotonic()
        records = [{"Data": f"r-{n + i}".encode(), "PartitionKey": keys[(n + i) % len(keys)]} for i in range(500)]
        answer = writers[(n // 500) % len(writers)].put_records(StreamName=stream, Records=records)
        for record, result in zip(records, answer["Records"]):
            if "SequenceNumber" in result:
                acknowledged.add(record["Data"])
        n += 500
        current = open_shards(client, stream)
        if len(current) > 4:
            split_seen = current
            break
        # About 2,000 records/s: twice one shard's capacity, for as long as it takes.
        time.sleep(max(0.0, 0.25 - (time.monotonic() - batch_started)))
    assert split_seen is not None, "the hot shard did not split within 60 s"
    assert len(split_seen) == 5
    children = [s for s in split_seen if s.get("ParentShardId") == shards[1]["ShardId"]]
    assert len(children) == 2, split_seen
    boundary = int(max(children, key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]))
                   ["HashKeyRange"]["StartingHashKey"])
    assert low <= boundary <= high, f"split at {boundary}, not where the load was ({low}..{high})"

    # The metadata leader reports the decision, with its figures; `rill status` prints it.
    decisions = []
    for node in cluster.nodes:
        decisions += node.status().get("onDemandDecisions", [])
    split = [d for d in decisions if d["decision"] == "split" and d["stream"] == stream]
    assert split and split[0]["shards"] == [shards[1]["ShardId"]] and split[0]["utilizationPercent"] >= 75, decisions
    status = subprocess.run([str(rill_bin), "status", "--endpoint", cluster.nodes[0].endpoint],
                            capture_output=True, text=True, timeout=30)
    assert status.returncode == 0, status.stderr
    assert "on-demand scaling" in status.stdout and stream in status.stdout, status.stdout

    # Writes stop: after the merge window, two cold neighbours merge, back to the floor of four.
    deadline = time.monotonic() + 60
    merged = None
    while time.monotonic() < deadline:
        current = open_shards(client, stream)
        if len(current) == 4:
            merged = current
            break
        time.sleep(0.2)
    assert merged is not None, "cold neighbours did not merge within 60 s"
    wait_active(client, stream, timeout=30)
    assert len(open_shards(client, stream)) == 4, "never below the on-demand floor of four shards"

    # Nothing acknowledged was lost across the split and the merge.
    stored = read_everything(client, stream)
    missing = acknowledged - set(stored)
    assert not missing, f"{len(missing)} acknowledged records missing, e.g. {sorted(missing)[:3]}"
    assert len(stored) == len(set(stored)), "a record was stored twice"
    client.delete_stream(StreamName=stream)


def test_provisioned_streams_never_scale(cluster_and_router):
    cluster, router = cluster_and_router
    client = router.client()
    stream = f"provisioned-{uuid.uuid4().hex[:8]}"
    client.create_stream(StreamName=stream, ShardCount=1)
    wait_active(client, stream, timeout=30)
    deadline = time.monotonic() + 8
    n = 0
    while time.monotonic() < deadline:
        client.put_records(StreamName=stream,
                           Records=[{"Data": b"x", "PartitionKey": f"p-{n + i}"} for i in range(500)])
        n += 500
        time.sleep(0.2)
    assert len(open_shards(client, stream)) == 1
    client.delete_stream(StreamName=stream)


def test_warm_throughput_scales_the_stream_up_to_it(cluster_and_router):
    cluster, router = cluster_and_router
    client = router.client()
    stream = f"warm-{uuid.uuid4().hex[:8]}"
    client.create_stream(StreamName=stream, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    wait_active(client, stream, timeout=30)
    arn = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    answer = client.update_stream_warm_throughput(StreamARN=arn, WarmThroughputMiBps=6)
    assert answer["WarmThroughput"]["TargetMiBps"] == 6
    assert answer["WarmThroughput"]["CurrentMiBps"] <= 6
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(open_shards(client, stream)) < 6:
        time.sleep(0.2)
    assert len(open_shards(client, stream)) == 6, "the stream did not scale up to its warm throughput"
    wait_active(client, stream, timeout=30)
    summary = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
    assert summary["WarmThroughput"] == {"TargetMiBps": 6, "CurrentMiBps": 6}
    # Warm throughput is for on-demand streams only, at creation too.
    expect_error(lambda: client.create_stream(StreamName=f"p-{uuid.uuid4().hex[:8]}", ShardCount=1,
                                              WarmThroughputMiBps=5), "InvalidArgumentException")
    client.delete_stream(StreamName=stream)
