"""Streams created in the first moments of a cluster's life (issue 14).

A stream created before the controller recorded the founders used to open as a sole-voter group on every node:
three unreplicated copies that each acknowledged writes. These tests call CreateStream on every node from the
first millisecond its API answers, then check that every shard has three voters in three zones on every node
and that records put through one node read back through the others.

RILL_FORMATION_ROUNDS sets how many clusters are formed (default 50 locally, fewer in CI to bound its time).
"""

from __future__ import annotations

import os
import threading
import time
import urllib.error
from pathlib import Path

from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from cluster import Cluster
from conftest import DEFAULT_BIN, read_shard, wait_active

BINARY = Path(os.environ.get("RILL_BIN", DEFAULT_BIN))
ROUNDS = int(os.environ.get("RILL_FORMATION_ROUNDS", "20" if os.environ.get("CI") else "50"))
STREAMS_PER_NODE = 2
RETRYABLE = {"LimitExceededException", "ServiceUnavailable", "InternalFailure", "InternalFailureException"}


class EarlyCreator(threading.Thread):
    """Calls CreateStream on one node every few milliseconds from before its API is up until each stream is created
    (a retried call whose first attempt went through gets ResourceInUseException: created all the same)."""

    def __init__(self, node, names: list[str], limit_seconds: float = 60.0):
        super().__init__(daemon=True)
        self.node, self.names, self.limit = node, names, limit_seconds
        self.created: list[str] = []
        self.refusals: dict[str, int] = {}
        self.first_answer: float | None = None
        self.error: str | None = None

    def run(self) -> None:
        client = self.node.client(retries={"max_attempts": 0}, connect_timeout=0.5, read_timeout=10)
        deadline = time.monotonic() + self.limit
        pending = list(self.names)
        while pending and time.monotonic() < deadline:
            name = pending[0]
            try:
                client.create_stream(StreamName=name, ShardCount=2)
            except ClientError as error:
                code = error.response["Error"]["Code"]
                self.first_answer = self.first_answer or time.monotonic()
                if code == "ResourceInUseException":
                    self.created.append(pending.pop(0))
                    continue
                if code not in RETRYABLE:
                    self.error = f"CreateStream {name} on node {self.node.node_id}: {code} {error}"
                    return
                self.refusals[code] = self.refusals.get(code, 0) + 1
                time.sleep(0.002)
                continue
            except (EndpointConnectionError, ConnectionClosedError, ReadTimeoutError, urllib.error.URLError, OSError):
                time.sleep(0.002)
                continue
            self.first_answer = self.first_answer or time.monotonic()
            self.created.append(pending.pop(0))
        if pending:
            self.error = f"node {self.node.node_id} could not create {pending} within {self.limit}s"


def form_and_create(tmp_path: Path, round_number: int) -> tuple[Cluster, list[str]]:
    cluster = Cluster(BINARY, tmp_path / f"round-{round_number}")
    creators = [EarlyCreator(node, [f"early-{round_number}-{node.node_id}-{i}" for i in range(STREAMS_PER_NODE)])
                for node in cluster.nodes]
    try:
        for creator in creators:
            creator.start()
        for node in cluster.nodes:
            node.start()
        for creator in creators:
            creator.join(timeout=90)
            assert not creator.is_alive(), f"creator on node {creator.node.node_id} did not finish"
            assert creator.error is None, creator.error + "\n" + creator.node.log_tail()
        cluster.wait_ready()
    except BaseException:
        cluster.stop()
        raise
    return cluster, [name for creator in creators for name in creator.created]


def test_streams_created_from_the_first_millisecond_are_replicated_on_three_zones(tmp_path):
    for round_number in range(ROUNDS):
        cluster, names = form_and_create(tmp_path, round_number)
        try:
            writer = cluster.node(1).client(retries={"max_attempts": 0})
            for name in names:
                wait_active(writer, name, timeout=30)
            cluster.assert_placement(timeout=30)
            # Records put through node 1 read back, all of them, through nodes 2 and 3.
            put: dict[str, set[bytes]] = {}
            for name in names:
                put[name] = set()
                for i in range(10):
                    data = f"{name}-{i}".encode()
                    writer.put_record(StreamName=name, Data=data, PartitionKey=f"key-{i}")
                    put[name].add(data)
            for reader_id in (2, 3):
                reader = cluster.node(reader_id).client()
                for name in names:
                    seen: set[bytes] = set()
                    for shard in ("shardId-000000000000", "shardId-000000000001"):
                        seen.update(r["Data"] for r in read_shard(reader, name, shard))
                    assert seen == put[name], f"round {round_number}: {name} read via node {reader_id}"
            # Every copy of every shard holds the same records.
            cluster.wait_converged(timeout=30)
            cluster.assert_placement(timeout=5)
        except BaseException:
            print("\n".join(node.log_tail(40) for node in cluster.nodes))
            raise
        finally:
            cluster.stop()


def test_ready_answers_only_once_a_stream_created_now_would_be_placed(tmp_path):
    """Whenever /ready says 200 on a node, a CreateStream sent to it at that moment is accepted and placed."""
    cluster = Cluster(BINARY, tmp_path)
    try:
        for node in cluster.nodes:
            node.start()
        node = cluster.node(2)
        deadline = time.monotonic() + 60
        while not node.ready():
            assert time.monotonic() < deadline, node.log_tail()
            assert node.alive(), node.log_tail()
            time.sleep(0.002)
        client = node.client(retries={"max_attempts": 0})
        client.create_stream(StreamName="at-ready", ShardCount=3)
        wait_active(client, "at-ready", timeout=30)
        cluster.wait_ready()
        cluster.assert_placement(timeout=30)
    finally:
        cluster.stop()
