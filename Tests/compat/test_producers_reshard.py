"""Idempotent producers across a reshard (docs/producers.md, "Across a reshard"): a record a shard stored
before a split or a merge, retried afterwards with the same producer id and sequence, lands in a child shard,
which took over its parents' producer windows: it is answered with the ShardId and sequence number the parent
gave it, and nothing is stored a second time. Driven with boto3 (the producer headers added through its event
hooks), on one node and on a three-node cluster through a router."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from cluster import cluster_with_router
from conftest import DEFAULT_BIN, list_all_shards, unique_name, wait_active

BINARY = Path(os.environ.get("RILL_BIN", DEFAULT_BIN))
MIDDLE = str(2**127)


class Producer:
    """An idempotent producer: numbered records, each answer remembered per record id."""

    def __init__(self, client):
        self.client = client
        self.stamp: dict = {}
        self.id = "reshard-" + uuid.uuid4().hex[:10]

        def add(request, **_):
            request.headers["x-rill-producer-id"] = self.id
            request.headers["x-rill-producer-sequence"] = self.stamp["sequence"]

        client.meta.events.register("before-sign.kinesis.PutRecords", add)
        client.meta.events.register("before-sign.kinesis.PutRecord", add)
        self.answers: dict[str, set[tuple[str, str]]] = {}
        self.errors: list[str] = []

    def put_records(self, stream: str, records: list[tuple[int, str]], timeout: float = 60.0) -> None:
        """Sends `records` (producer sequence, record id) until every one is acknowledged: after a reshard the
        children may still be electing leaders, and a retry is what this producer is for."""
        deadline = time.monotonic() + timeout
        pending = records
        while pending:
            assert time.monotonic() < deadline, f"not acknowledged: {len(pending)} records; {self.errors[-5:]}"
            self.stamp["sequence"] = ",".join(str(sequence) for sequence, _ in pending)
            try:
                reply = self.client.put_records(
                    StreamName=stream, Records=[{"Data": rid.encode(), "PartitionKey": rid} for _, rid in pending])
            except (ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError) as error:
                self.errors.append(type(error).__name__)
                time.sleep(0.2)
                continue
            failed = []
            for record, result in zip(pending, reply["Records"]):
                if "SequenceNumber" in result:
                    self.answers.setdefault(record[1], set()).add((result["ShardId"], result["SequenceNumber"]))
                else:
                    self.errors.append(result.get("ErrorCode", "?"))
                    failed.append(record)
            pending = failed
            if pending:
                time.sleep(0.2)

    def put_record(self, stream: str, sequence: int, rid: str, timeout: float = 30.0) -> tuple[str, str]:
        deadline = time.monotonic() + timeout
        while True:
            self.stamp["sequence"] = str(sequence)
            try:
                reply = self.client.put_record(StreamName=stream, Data=rid.encode(), PartitionKey=rid)
                return reply["ShardId"], reply["SequenceNumber"]
            except (ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError) as error:
                self.errors.append(type(error).__name__)
                assert time.monotonic() < deadline, f"PutRecord not acknowledged: {self.errors[-5:]}"
                time.sleep(0.2)


def wait_resharded(client, stream: str, open_count: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        summary = wait_active(client, stream, timeout=timeout)
        if summary.get("OpenShardCount") == open_count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{stream} did not reach {open_count} open shards")


def read_any_shard(client, stream: str, shard: str, timeout: float = 60.0) -> list[dict]:
    """Every record of a shard, open or closed: a closed shard's reads end without a NextShardIterator, an
    open one's once a read comes back empty at the tip."""
    iterator = client.get_shard_iterator(StreamName=stream, ShardId=shard,
                                         ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records: list[dict] = []
    deadline = time.monotonic() + timeout
    while iterator:
        assert time.monotonic() < deadline, f"reading {shard} did not reach its end in {timeout}s"
        reply = client.get_records(ShardIterator=iterator)
        records += reply["Records"]
        if not reply["Records"] and reply.get("MillisBehindLatest") == 0:
            break
        iterator = reply.get("NextShardIterator")
    return records


def stored_once(client, stream: str, producer: Producer) -> dict[str, tuple[str, str]]:
    """Reads every shard (closed parents too): each record once, where every one of its answers said."""
    where: dict[str, tuple[str, str]] = {}
    for shard in list_all_shards(client, stream):
        for record in read_any_shard(client, stream, shard["ShardId"]):
            rid = record["Data"].decode()
            assert rid not in where, f"record {rid} stored twice: {where[rid]} and {shard['ShardId']}"
            where[rid] = (shard["ShardId"], record["SequenceNumber"])
    assert set(producer.answers) <= set(where), "acknowledged records missing"
    for rid, answers in producer.answers.items():
        assert answers == {where[rid]}, f"{rid} answered {answers}, stored at {where[rid]}"
    return where


def retries_cross_a_split_and_a_merge(client, admin, stream: str) -> None:
    admin.create_stream(StreamName=stream, ShardCount=1)
    wait_active(admin, stream)
    producer = Producer(client)
    first = [(sequence, uuid.uuid4().hex) for sequence in range(60)]
    producer.put_records(stream, first)
    single_id = "single-" + uuid.uuid4().hex
    single = producer.put_record(stream, 60, single_id)
    assert {shard for answers in producer.answers.values() for shard, _ in answers} == {"shardId-000000000000"}
    before = {rid: set(answers) for rid, answers in producer.answers.items()}

    # Split: the same records again, numbered as before, land in the children (both halves of the key space).
    admin.split_shard(StreamName=stream, ShardToSplit="shardId-000000000000", NewStartingHashKey=MIDDLE)
    wait_resharded(admin, stream, 2)
    producer.put_records(stream, first)
    assert producer.put_record(stream, 60, single_id) == single, "PutRecord's retry got a new copy"
    assert {rid: answers for rid, answers in producer.answers.items() if rid in before} == before, \
        "a retry after the split was answered with a new copy"
    second = [(sequence, uuid.uuid4().hex) for sequence in range(61, 121)]
    producer.put_records(stream, second)
    children = {shard for _, rid in second for shard, _ in producer.answers[rid]}
    assert children == {"shardId-000000000001", "shardId-000000000002"}, children
    after_split = {rid: set(answers) for rid, answers in producer.answers.items()}

    # Merge: one child, two parents; records of the first shard and of both children are retried.
    admin.merge_shards(StreamName=stream, ShardToMerge="shardId-000000000001",
                       AdjacentShardToMerge="shardId-000000000002")
    wait_resharded(admin, stream, 1)
    producer.put_records(stream, first + second)
    assert {rid: answers for rid, answers in producer.answers.items() if rid in after_split} == after_split, \
        "a retry after the merge was answered with a new copy"
    third = [(sequence, uuid.uuid4().hex) for sequence in range(121, 141)]
    producer.put_records(stream, third)
    assert {shard for _, rid in third for shard, _ in producer.answers[rid]} == {"shardId-000000000003"}

    where = stored_once(admin, stream, producer)
    assert len(where) == len(first) + 1 + len(second) + len(third)
    print(f"\n{len(where)} records stored once; errors seen while resharding: {sorted(set(producer.errors))}")


def test_retries_after_a_split_and_a_merge_get_the_parents_copy_on_one_node(rill):
    retries_cross_a_split_and_a_merge(rill.client(), rill.client(), unique_name("prodreshard"))


def test_retries_after_a_split_and_a_merge_get_the_parents_copy_through_a_router(tmp_path):
    with cluster_with_router(BINARY, tmp_path) as (cluster, router):
        client = router.client(read_timeout=5, connect_timeout=2, retries={"max_attempts": 0})
        retries_cross_a_split_and_a_merge(client, cluster.node(1).client(), "prodreshard")
