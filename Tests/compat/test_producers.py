"""Idempotent producers (docs/producers.md): a producer that sends `x-rill-producer-id` and
`x-rill-producer-sequence` with PutRecord / PutRecords may retry any record, after any failure, and the
stream holds it once; a retry of a committed record is answered with the sequence number it got the first
time. Driven with boto3, which adds the two headers through its event hooks (as any SDK can add headers);
plain calls through the same clients keep Kinesis's at-least-once semantics."""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from cluster import cluster_with_router
from conftest import DEFAULT_BIN, client_error, read_shard, unique_name, wait_active

BINARY = Path(os.environ.get("RILL_BIN", DEFAULT_BIN))


def producer_headers(client, stamp: dict) -> None:
    """Adds the producer headers to every PutRecord(s) the client sends while `stamp` holds them."""

    def add(request, **_):
        if stamp.get("id") is not None:
            request.headers["x-rill-producer-id"] = stamp["id"]
            request.headers["x-rill-producer-sequence"] = stamp["sequence"]

    client.meta.events.register("before-sign.kinesis.PutRecords", add)
    client.meta.events.register("before-sign.kinesis.PutRecord", add)


class RetryingProducer(threading.Thread):
    """PutRecords of numbered records through one node, as an idempotent producer: every record keeps its
    producer sequence, and whatever went wrong (timeout, closed connection, per-record error) is sent again
    until acknowledged. Remembers every answer each record got."""

    # The window keeps 1,000 records per producer and shard: on this test's two shards, 1,600 records keep the
    # earliest ones inside it however fast the machine writes, so their resend later is judged, not refused.
    MAX_RECORDS = 1_600

    def __init__(self, node, stream: str, batch: int = 25, limit_seconds: float = 90.0):
        super().__init__(daemon=True)
        # Short timeouts so calls that reach a killed leader fail and are retried; botocore retries nothing.
        self.client = node.client(read_timeout=2, connect_timeout=1, retries={"max_attempts": 0})
        self.stamp: dict = {}
        producer_headers(self.client, self.stamp)
        self.producer = "test-" + uuid.uuid4().hex[:10]
        self.stream, self.batch, self.limit = stream, batch, limit_seconds
        self.next_sequence = 0
        self.pending: list[tuple[int, str]] = []  # (producer sequence, record id), not yet acknowledged
        self.answers: dict[str, set[tuple[str, str]]] = {}
        self.sequence_of: dict[str, int] = {}
        self.retries = 0
        self.errors: list[str] = []
        self.stopping = threading.Event()

    def send(self, records: list[tuple[int, str]]) -> list[tuple[int, str]]:
        """One PutRecords; returns the records not acknowledged."""
        self.stamp.update(id=self.producer, sequence=",".join(str(s) for s, _ in records))
        try:
            reply = self.client.put_records(
                StreamName=self.stream, Records=[{"Data": rid.encode(), "PartitionKey": rid} for _, rid in records])
        except (ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError) as error:
            self.errors.append(type(error).__name__)
            return records
        failed = []
        for record, result in zip(records, reply["Records"]):
            if "SequenceNumber" in result:
                self.sequence_of[record[1]] = record[0]
                self.answers.setdefault(record[1], set()).add((result["ShardId"], result["SequenceNumber"]))
            else:
                self.errors.append(result.get("ErrorCode", "?"))
                failed.append(record)
        return failed

    def run(self) -> None:
        started = time.monotonic()
        while time.monotonic() - started < self.limit:
            if not self.pending:
                if self.stopping.is_set() or self.next_sequence >= self.MAX_RECORDS:
                    return
                self.pending = [(self.next_sequence + i, uuid.uuid4().hex) for i in range(self.batch)]
                self.next_sequence += self.batch
            else:
                self.retries += 1
            self.pending = self.send(self.pending)
            if self.pending:
                time.sleep(0.05)


def read_everything(node, stream: str) -> dict[str, list[tuple[str, str]]]:
    client = node.client(read_timeout=30)
    return {
        shard["ShardId"]: [(r["Data"].decode(), r["SequenceNumber"]) for r in
                           read_shard(client, stream, shard["ShardId"], timeout=60)]
        for shard in client.list_shards(StreamName=stream)["Shards"]
    }


def stored_once(producer: RetryingProducer, reads: dict) -> dict[str, tuple[str, str]]:
    """Every record sent is stored exactly once, where its answers said; returns record id -> position."""
    where: dict[str, tuple[str, str]] = {}
    for shard, records in reads.items():
        for record_id, sequence in records:
            assert record_id not in where, f"record {record_id} stored twice: {where[record_id]}, {(shard, sequence)}"
            where[record_id] = (shard, sequence)
    sent = set(producer.answers)
    assert sent <= set(where), f"acknowledged records lost: {list(sent - set(where))[:5]}"
    for record_id, answers in producer.answers.items():
        assert answers == {where[record_id]}, f"{record_id} answered {answers}, stored at {where[record_id]}"
    return where


def test_a_retrying_producer_stores_every_record_once_across_kill_9_of_a_shard_leader_and_restarts(tmp_path):
    with cluster_with_router(BINARY, tmp_path) as (cluster, router):
        stream = "producers"
        cluster.node(1).client().create_stream(StreamName=stream, ShardCount=2)
        wait_active(cluster.node(1).client(), stream)
        victim = cluster.leader_of(stream, "shardId-000000000000")
        # Through the router: whole calls forwarded with their producer stamp, PutRecords split by shard.
        producer = RetryingProducer(router, stream)
        producer.start()
        deadline = time.monotonic() + 30
        while len(producer.answers) < 300 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(producer.answers) >= 300, f"writes did not flow: {producer.errors[:5]}"
        cluster.node(victim).kill()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(producer.answers) < 900:
            time.sleep(0.05)
        assert len(producer.answers) >= 900, f"writes did not resume: {producer.errors[-5:]}"
        cluster.node(victim).start()
        cluster.wait_ready(nodes=[cluster.node(victim)])
        producer.stopping.set()
        producer.join(timeout=60)
        assert not producer.is_alive() and not producer.pending, f"left unacknowledged: {producer.errors[-5:]}"
        if producer.retries == 0:
            # The router hid the kill from the client this time (its own retry reached the new leader). Retry
            # the last acknowledged call by hand, as a client whose acknowledgement was lost would: nothing new
            # may be stored (checked by stored_once below), and it gets its first answers.
            last = sorted((sequence, rid) for rid, sequence in producer.sequence_of.items())[-producer.batch:]
            assert producer.send(last) == [], producer.errors[-5:]
            producer.retries += 1
        print(f"\n{len(producer.answers)} records, {producer.retries} retried calls, errors seen: "
              f"{sorted(set(producer.errors))}")
        entry = cluster.node(victim % 3 + 1)
        cluster.wait_converged(timeout=60)
        first = stored_once(producer, read_everything(entry, stream))

        # Acknowledgements lost after the fact: the earliest records (committed under the killed leader), sent
        # again straight to a node (appends forwarded to the shards' leaders), are answered with their first
        # positions and store nothing.
        early = sorted((sequence, rid) for rid, sequence in producer.sequence_of.items())[:50]
        producer.client = entry.client(read_timeout=5, connect_timeout=2, retries={"max_attempts": 0})
        producer_headers(producer.client, producer.stamp)
        left = producer.send(early)
        assert left == [] and producer.send(early[::2]) == [], producer.errors[-5:]
        # Every node killed at once and restarted: the window comes back from the logs.
        cluster.kill_all()
        for node in cluster.nodes:
            node.start()
        cluster.wait_ready()
        deadline = time.monotonic() + 30
        while producer.send(early) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert stored_once(producer, read_everything(entry, stream)) == first


def test_plain_clients_keep_at_least_once_and_bad_producer_headers_are_refused(rill):
    plain_client = rill.client()
    stream = unique_name("prod")
    plain_client.create_stream(StreamName=stream, ShardCount=1)
    wait_active(plain_client, stream)
    # No headers: two calls, two records, as Kinesis.
    plain = [plain_client.put_record(StreamName=stream, Data=b"same", PartitionKey="k")["SequenceNumber"]
             for _ in range(2)]
    assert plain[0] != plain[1]

    client = rill.client()
    stamp: dict = {"id": "p-" + uuid.uuid4().hex[:8], "sequence": "7"}
    producer_headers(client, stamp)
    once = [client.put_record(StreamName=stream, Data=b"once", PartitionKey="k")["SequenceNumber"] for _ in range(3)]
    assert once[0] == once[1] == once[2] and int(once[0]) > int(plain[1])
    # A PutRecords retrying record 7 with two new ones: 7 keeps its number, 8 and 9 are stored.
    stamp["sequence"] = "7-9"
    reply = client.put_records(StreamName=stream, Records=[{"Data": d, "PartitionKey": "k"} for d in
                                                           (b"once", b"eight", b"nine")])
    assert reply["FailedRecordCount"] == 0 and reply["Records"][0]["SequenceNumber"] == once[0]
    data = [r["Data"] for r in read_shard(plain_client, stream, "shardId-000000000000")]
    assert data == [b"same", b"same", b"once", b"eight", b"nine"]

    for sequence, why in (("1,2", "two numbers for one record"), ("x", "not a number"), ("", "empty")):
        stamp["sequence"] = sequence
        with pytest.raises(ClientError) as excinfo:
            client.put_record(StreamName=stream, Data=b"x", PartitionKey="k")
        assert client_error(excinfo)[0] == "InvalidArgumentException", why
    stamp.update(id="bad id", sequence="1")
    with pytest.raises(ClientError) as excinfo:
        client.put_record(StreamName=stream, Data=b"x", PartitionKey="k")
    assert client_error(excinfo)[0] == "InvalidArgumentException"
    stamp.update(id="p", sequence="3,3")
    with pytest.raises(ClientError) as excinfo:
        client.put_records(StreamName=stream, Records=[{"Data": b"x", "PartitionKey": "k"}] * 2)
    assert client_error(excinfo)[0] == "InvalidArgumentException", "sequences must increase"
    data = [r["Data"] for r in read_shard(plain_client, stream, "shardId-000000000000")]
    assert len(data) == 5, "refused calls stored nothing"
