"""How long writes stop when a shard is split or two are merged under load (issues 20 and 22), on three real nodes
and a router.

Writers put records without pause, each into one hash range that a reshard hands to new shards: through the router
and straight to a node (which forwards). The longest gap between two acknowledged writes of a writer, from just
before the reshard until well after it, is the pause a producer sees. On AWS the children take writes as soon as
the stream is ACTIVE again; here they must too, within a bound a loaded two-core machine meets with margin. Before
the fix, the children's groups waited out election timeouts and the writers' calls came back InternalFailure ("No
leader could take the request in time") for seconds.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from cluster import cluster_with_router

MAX_HASH = 2**128 - 1
# The longest a writer may go without an acknowledged write across a reshard. A reshard is two Raft commits (the
# seal, the catalog change) and an election that starts at once: measured 0.07-0.18 s with two other release
# builds on the two cores, 0.8-3.2 s with three more (load average 19, when new leaders can miss their followers'
# answers for an election timeout and step down). Before the fix the router's PutRecords across a split stopped
# for 6.1-6.4 s, until its 10 s shard map expired, so the bound still tells the two apart.
PAUSE_BOUND = 3.5
# What every writer got before the fix, for seconds after every split: the children's leaders redirected a router's
# call to each other until its deadline. A leader change under load gives other retryable failures (an unknown
# outcome); those are printed, not judged here.
OLD_SYMPTOM = "No leader could take the request in time"
# Writes go on this long after the reshard returned, so a late pause shows too (the routers' shard maps lived 10 s).
AFTER = 6.0
# Records per PutRecords call, spread over the ranges the reshard changes.
BATCH = 10


@dataclass
class Writer:
    """One writer through one door: PutRecord of one record whose hash key lies in one of `ranges`, or PutRecords of
    BATCH records spread over all of them (one call then spans every shard the reshard makes or merges)."""

    name: str
    member: object
    stream: str
    ranges: list[tuple[int, int]]
    batch: bool
    acks: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)

    def run(self, stop: threading.Event) -> None:
        # No client retries: a failed call must show as a failure, not hide behind boto3's backoff.
        client = self.member.client(retries={"max_attempts": 0}, read_timeout=15, connect_timeout=5)
        chooser = random.Random(self.name)
        while not stop.is_set():
            keys = [chooser.randint(*self.ranges[i % len(self.ranges)]) for i in range(BATCH if self.batch else 1)]
            try:
                if self.batch:
                    answer = client.put_records(StreamName=self.stream, Records=[
                        {"Data": b"x" * 64, "PartitionKey": "p", "ExplicitHashKey": str(key)} for key in keys])
                    failed = [r for r in answer["Records"] if "ErrorCode" in r]
                    for record in failed:
                        self.errors[f"{record['ErrorCode']}: {record.get('ErrorMessage', '')}"] += 1
                    if not failed:
                        self.acks.append(time.monotonic())
                else:
                    client.put_record(StreamName=self.stream, Data=b"x" * 64, PartitionKey="p",
                                      ExplicitHashKey=str(keys[0]))
                    self.acks.append(time.monotonic())
            except ClientError as error:
                self.errors[f"{error.response['Error']['Code']}: {error.response['Error'].get('Message', '')}"] += 1
            except BotoCoreError as error:
                self.errors[type(error).__name__] += 1

    def longest_gap(self, since: float, until: float) -> float:
        """The longest time in [since, until] without a call all of whose records were acknowledged (the window's
        ends count as edges)."""
        inside = [t for t in self.acks if since <= t <= until]
        edges = [since] + inside + [until]
        return max(b - a for a, b in zip(edges, edges[1:]))

    def first_ack_after(self, at: float) -> float | None:
        return next((t for t in self.acks if t >= at), None)


@pytest.fixture(scope="module")
def cluster_and_router(rill_bin, tmp_path_factory):
    with cluster_with_router(rill_bin, tmp_path_factory.mktemp("reshard-pause")) as both:
        yield both


def open_shards(client, stream: str) -> list[dict]:
    shards = client.list_shards(StreamName=stream, ShardFilter={"Type": "AT_LATEST"})["Shards"]
    return sorted(shards, key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]))


def wait_status(client, stream: str, wanted: str, timeout: float) -> float:
    """Polls DescribeStreamSummary until the stream shows `wanted`; returns when it first did."""
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"]
        if status == wanted:
            return time.monotonic()
        time.sleep(0.02)
    raise AssertionError(f"{stream} not {wanted} within {timeout}s ({status})")


def wait_until_all_write(writers: list[Writer], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(len(w.acks) >= 5 for w in writers):
            return
        time.sleep(0.02)
    raise AssertionError("writers never got going: " + ", ".join(f"{w.name} {dict(w.errors)}" for w in writers))


def assert_no_old_symptom(result: dict) -> None:
    stuck = {name: errors for name, errors in result["errors"].items() if any(OLD_SYMPTOM in e for e in errors)}
    assert not stuck, f"writes waited out the forward deadline across the reshard: {stuck}"


def election_delays(cluster, stream: str, parents: set[str]) -> dict[str, int]:
    """Where the time went: milliseconds from the reshard's catalog stamp (the metadata leader's clock when it
    proposed the change) to each new shard's first leader, from the nodes' event logs (`/admin/status`)."""
    statuses = [node.status() for node in cluster.nodes]
    stream_ids = {g["streamId"] for status in statuses for g in status["groups"] if g.get("stream") == stream}
    assert len(stream_ids) == 1, stream_ids
    stream_id = stream_ids.pop()
    events = [event for status in statuses for event in status.get("events", [])]
    resharded = [e["timeMillis"] for e in events if e["kind"] == "resharded" and e["detail"].startswith(f"{stream}:")]
    assert resharded, f"no resharded event for {stream}"
    first: dict[str, int] = {}
    for event in events:
        group = event.get("group") or ""
        if event["kind"] != "became-leader" or not group.startswith(stream_id + "/"):
            continue
        shard = group.split("/", 1)[1]
        if shard not in parents:
            first[shard] = min(first.get(shard, event["timeMillis"]), event["timeMillis"])
    return {shard: at - resharded[0] for shard, at in sorted(first.items())}


def run_under_load(cluster, router, stream: str, ranges: list[tuple[int, int]], parents: set[str], reshard) -> dict:
    """Writers through the router and through node 1 (PutRecords over all `ranges`, PutRecord into each); runs
    `reshard`, writes on for AFTER s, and returns what happened: the longest pause per writer, when the stream was
    ACTIVE again, when each writer's first write after the reshard returned."""
    writers = []
    for door, member in (("router", router), ("node-1", cluster.nodes[0])):
        writers.append(Writer(f"{door} PutRecords", member, stream, ranges, batch=True))
        for low, high in ranges:
            writers.append(Writer(f"{door} PutRecord [{low:#x}..]", member, stream, [(low, high)], batch=False))
    stop = threading.Event()
    threads = [threading.Thread(target=w.run, args=(stop,), daemon=True) for w in writers]
    for thread in threads:
        thread.start()
    try:
        wait_until_all_write(writers, timeout=20)
        client = router.client()
        started = time.monotonic()
        reshard(client)
        returned = time.monotonic()
        active = wait_status(client, stream, "ACTIVE", timeout=20)
        # The load runs on for a fixed window after the reshard (bounded in time); nothing here waits for a state.
        stop.wait(max(0.0, returned + AFTER - time.monotonic()))
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        until = returned + AFTER
        result = {
            "reshard_seconds": returned - started,
            "active_after": active - started,
            "gaps": {w.name: w.longest_gap(started - 0.2, until) for w in writers},
            "first_ack_after_return": {
                w.name: (lambda t: None if t is None else round(t - returned, 3))(w.first_ack_after(returned))
                for w in writers
            },
            "errors": {w.name: dict(w.errors) for w in writers if w.errors},
            "acks": {w.name: len(w.acks) for w in writers},
        }
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    result["elections"] = election_delays(cluster, stream, parents)
    print(f"\nreshard call took {result['reshard_seconds']:.3f} s; ACTIVE seen {result['active_after']:.3f} s "
          f"after it started; the new shards had leaders {result['elections']} ms after the reshard's stamp")
    for name, gap in result["gaps"].items():
        print(f"  {name:45} longest pause {gap:.3f} s, first ack {result['first_ack_after_return'][name]} s after "
              f"the call returned, {result['acks'][name]} acks, errors {result['errors'].get(name, {})}")
    return result


def test_split_pauses_writes_briefly(cluster_and_router):
    cluster, router = cluster_and_router
    client = router.client()
    stream = f"split-pause-{uuid.uuid4().hex[:8]}"
    client.create_stream(StreamName=stream, ShardCount=1)
    wait_status(client, stream, "ACTIVE", timeout=20)
    parent = open_shards(client, stream)[0]
    middle = MAX_HASH // 2 + 1

    def split(kinesis):
        kinesis.split_shard(StreamName=stream, ShardToSplit=parent["ShardId"], NewStartingHashKey=str(middle))

    result = run_under_load(cluster, router, stream, [(0, middle - 1), (middle, MAX_HASH)], {parent["ShardId"]},
                            split)
    assert len(open_shards(client, stream)) == 2
    worst = max(result["gaps"].values())
    assert worst < PAUSE_BOUND, f"writes to the children paused {worst:.3f} s (bound {PAUSE_BOUND} s): {result}"
    assert_no_old_symptom(result)


def test_merge_pauses_writes_briefly(cluster_and_router):
    cluster, router = cluster_and_router
    client = router.client()
    stream = f"merge-pause-{uuid.uuid4().hex[:8]}"
    client.create_stream(StreamName=stream, ShardCount=2)
    wait_status(client, stream, "ACTIVE", timeout=20)
    first, second = open_shards(client, stream)
    ranges = [(int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
              for s in (first, second)]

    def merge(kinesis):
        kinesis.merge_shards(StreamName=stream, ShardToMerge=first["ShardId"],
                             AdjacentShardToMerge=second["ShardId"])

    result = run_under_load(cluster, router, stream, ranges, {first["ShardId"], second["ShardId"]}, merge)
    assert len(open_shards(client, stream)) == 1
    worst = max(result["gaps"].values())
    assert worst < PAUSE_BOUND, f"writes to the merged shard paused {worst:.3f} s (bound {PAUSE_BOUND} s): {result}"
    assert_no_old_symptom(result)


def test_router_put_records_fail_nothing_across_reshards(cluster_and_router):
    """PutRecords through the router, without pause, across two splits and two merges: no record may fail. A router
    whose map is older than a reshard is told so by the node it asked (`shardSealed`) and fetches the map again;
    before the fix it fetched it once, often before the metadata leader had applied the reshard, got the parent
    shown open again, was refused again and failed those records with InternalFailure ("shards kept closing")."""
    cluster, router = cluster_and_router
    client = router.client()
    stream = f"reshard-router-{uuid.uuid4().hex[:8]}"
    client.create_stream(StreamName=stream, ShardCount=2)
    wait_status(client, stream, "ACTIVE", timeout=20)
    writer = Writer("router PutRecords", router, stream, [(0, MAX_HASH // 2), (MAX_HASH // 2 + 1, MAX_HASH)],
                    batch=True)
    stop = threading.Event()
    thread = threading.Thread(target=writer.run, args=(stop,), daemon=True)
    thread.start()
    reshards = []
    try:
        wait_until_all_write([writer], timeout=20)
        for step in range(4):
            shards = open_shards(client, stream)
            if step < 2:
                widest = max(shards, key=lambda s: int(s["HashKeyRange"]["EndingHashKey"])
                             - int(s["HashKeyRange"]["StartingHashKey"]))
                low, high = (int(widest["HashKeyRange"][k]) for k in ("StartingHashKey", "EndingHashKey"))
                client.split_shard(StreamName=stream, ShardToSplit=widest["ShardId"],
                                   NewStartingHashKey=str((low + high) // 2 + 1))
                reshards.append(f"split {widest['ShardId']}")
            else:
                client.merge_shards(StreamName=stream, ShardToMerge=shards[0]["ShardId"],
                                    AdjacentShardToMerge=shards[1]["ShardId"])
                reshards.append(f"merge {shards[0]['ShardId']}+{shards[1]['ShardId']}")
            wait_status(client, stream, "ACTIVE", timeout=20)
            # Writes go on for a moment with the new shards before the next reshard (bounded in time).
            stop.wait(1.5)
    finally:
        stop.set()
        thread.join(timeout=30)
    print(f"\n{reshards}: {len(writer.acks)} fully acknowledged calls, failed records {dict(writer.errors)}")
    assert len(open_shards(client, stream)) == 2
    assert not writer.errors, f"records failed through the router across {reshards}: {dict(writer.errors)}"
    assert len(writer.acks) > 20, f"the writer barely wrote: {len(writer.acks)} calls"
