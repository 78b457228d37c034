"""Consumer groups (docs/consumers.md): leases and fenced checkpoints kept by the metadata group, reached through
the `RillConsumerGroups_20261206` API on the Kinesis port, SigV4-signed. On one node: the API's answers and
refusals, balancing when a worker joins, children after their parents. On three nodes and a router: two worker
processes share a 4-shard stream, one is killed with SIGKILL and the other takes its leases after the failover
time; the dead worker's checkpoint is refused; `rill status` shows the owners."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cluster import cluster_with_router
from conftest import HASH_MAX, create_stream, unique_name, wait_for
from groups_client import GroupError, GroupsClient

HERE = Path(__file__).resolve().parent


def refused(call, code: str) -> GroupError:
    with pytest.raises(GroupError) as excinfo:
        call()
    assert excinfo.value.code == code, excinfo.value
    assert excinfo.value.status == 400, excinfo.value
    return excinfo.value


def owners(group: dict) -> dict[str, str]:
    return {lease["ShardId"]: lease.get("Owner") for lease in group["Leases"] if lease["Held"]}


def put(kinesis, stream: str, count: int) -> list[dict]:
    return [kinesis.put_record(StreamName=stream, Data=f"r{i}".encode(), PartitionKey=f"k{i}") for i in range(count)]


# -- one node -------------------------------------------------------------------------------------------------


def test_group_api_answers_and_refusals(rill, kinesis):
    groups = GroupsClient(rill.endpoint)
    stream = create_stream(kinesis, shards=4)
    created = groups.create_group(stream, "g", failover_ms=5000)
    assert created["GroupName"] == "g" and created["FailoverTimeMillis"] == 5000
    assert created["InitialPosition"] == {"Type": "TRIM_HORIZON"}
    assert [lease["ShardId"] for lease in created["Leases"]] == [f"shardId-00000000000{i}" for i in range(4)]
    assert all(not lease["Held"] and lease["Checkpoint"] == {"Type": "INITIAL"} for lease in created["Leases"])
    assert [g["GroupName"] for g in groups.list_groups(stream)] == ["g"]
    refused(lambda: groups.create_group(stream, "g"), "ResourceInUseException")
    refused(lambda: groups.describe_group(stream, "nope"), "ResourceNotFoundException")
    refused(lambda: groups.create_group(unique_name("missing"), "g"), "ResourceNotFoundException")
    refused(lambda: groups.create_group(stream, "bad name!"), "ValidationException")
    refused(lambda: groups.create_group(stream, "h", failover_ms=10), "ValidationException")

    # The first worker takes every shard; a second one takes from the busiest, one lease per round.
    first = groups.acquire(stream, "g", "w1")
    assert len(first) == 4 and all(lease["Owner"] == "w1" and lease["LeaseToken"] == 1 for lease in first)
    assert len(groups.acquire(stream, "g", "w1")) == 4, "a worker holding its share takes nothing more"
    assert len(groups.acquire(stream, "g", "w2")) == 1
    assert len(groups.acquire(stream, "g", "w2")) == 2
    assert len(groups.acquire(stream, "g", "w2")) == 2, "balanced: no more steals"
    held = owners(groups.describe_group(stream, "g"))
    assert sorted(held.values()) == ["w1", "w1", "w2", "w2"]

    # w1 lost two leases to w2: its renewals and checkpoints on them are refused by the fencing token.
    stolen = [lease for lease in first if held[lease["ShardId"]] == "w2"]
    kept = [lease for lease in first if held[lease["ShardId"]] == "w1"]
    record = kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="p",
                                ExplicitHashKey=str(HASH_MAX // 8 * (2 * int(stolen[0]["ShardId"][-1]) + 1)))
    assert record["ShardId"] == stolen[0]["ShardId"]
    refused(lambda: groups.renew(stream, "g", "w1", stolen[0]["ShardId"], 1), "ResourceInUseException")
    refused(lambda: groups.checkpoint(stream, "g", "w1", stolen[0]["ShardId"], 1, record["SequenceNumber"]),
            "ResourceInUseException")
    thief = next(l for l in groups.acquire(stream, "g", "w2") if l["ShardId"] == stolen[0]["ShardId"])
    lease = groups.checkpoint(stream, "g", "w2", thief["ShardId"], thief["LeaseToken"], record["SequenceNumber"], 3)
    assert lease["Checkpoint"] == {"Type": "AT_SEQUENCE_NUMBER", "SequenceNumber": record["SequenceNumber"],
                                   "SubSequenceNumber": 3}
    # Forward only, and only this shard's numbers; ShardEnd only for a closed shard.
    refused(lambda: groups.checkpoint(stream, "g", "w2", thief["ShardId"], thief["LeaseToken"],
                                      record["SequenceNumber"], 2), "InvalidArgumentException")
    other = kept[0]["ShardId"]
    refused(lambda: groups.checkpoint(stream, "g", "w1", other, kept[0]["LeaseToken"], record["SequenceNumber"]),
            "InvalidArgumentException")
    refused(lambda: groups.checkpoint(stream, "g", "w2", thief["ShardId"], thief["LeaseToken"], shard_end=True),
            "InvalidArgumentException")
    renewed = groups.renew(stream, "g", "w1", other, kept[0]["LeaseToken"])
    assert renewed["Owner"] == "w1" and renewed["Held"]

    # A release frees the lease at once, for the next worker to take.
    groups.release(stream, "g", "w1", other, kept[0]["LeaseToken"])
    after = next(l for l in groups.describe_group(stream, "g")["Leases"] if l["ShardId"] == other)
    assert not after["Held"] and "Owner" not in after and after["LeaseToken"] == kept[0]["LeaseToken"] + 1
    groups.delete_group(stream, "g")
    assert groups.list_groups(stream) == []


def test_children_are_leased_after_their_parent_is_finished(rill, kinesis):
    groups = GroupsClient(rill.endpoint)
    stream = create_stream(kinesis, shards=1)
    groups.create_group(stream, "g")
    [parent] = groups.acquire(stream, "g", "w")
    kinesis.split_shard(StreamName=stream, ShardToSplit="shardId-000000000000",
                        NewStartingHashKey=str(HASH_MAX // 2 + 1))
    wait_for(lambda: kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"]
             == "ACTIVE", 10, "split done")
    group = groups.describe_group(stream, "g")
    children = [l for l in group["Leases"] if l["ParentShardIds"] == ["shardId-000000000000"]]
    assert len(children) == 2 and not any(child["Workable"] for child in children)
    assert [l["ShardId"] for l in groups.acquire(stream, "g", "w")] == ["shardId-000000000000"]
    groups.checkpoint(stream, "g", "w", parent["ShardId"], parent["LeaseToken"], shard_end=True)
    taken = sorted(l["ShardId"] for l in groups.acquire(stream, "g", "w"))
    assert taken == sorted(child["ShardId"] for child in children)


# -- three nodes and a router, workers as processes ------------------------------------------------------------


def start_worker(endpoint: str, stream: str, group: str, worker: str, state: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(HERE / "group_worker.py"), endpoint, stream, group, worker,
                             str(state)], cwd=str(HERE), stdin=subprocess.DEVNULL)


def test_a_killed_workers_leases_move_after_the_failover_time(rill_bin, tmp_path):
    with cluster_with_router(rill_bin, tmp_path) as (cluster, router):
        kinesis = router.client()
        stream = unique_name("groups")
        kinesis.create_stream(StreamName=stream, ShardCount=4)
        kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
        via_router = GroupsClient(router.endpoint)
        via_node = GroupsClient(cluster.node(2).endpoint)
        failover = 3000
        via_router.create_group(stream, "g", failover_ms=failover)
        put(kinesis, stream, 40)
        # One worker through the router, one through a node (which forwards to the metadata leader when it is not).
        states = {"a": tmp_path / "a.json", "b": tmp_path / "b.json"}
        workers = {"a": start_worker(router.endpoint, stream, "g", "a", states["a"]),
                   "b": start_worker(cluster.node(2).endpoint, stream, "g", "b", states["b"])}
        try:
            def balanced():
                held = owners(via_node.describe_group(stream, "g"))
                return held if sorted(held.values()) == ["a", "a", "b", "b"] else None

            wait_for(balanced, 30, "two workers holding two shards each")

            def all_checkpointed():
                group = via_router.describe_group(stream, "g")
                return all(l["Checkpoint"]["Type"] == "AT_SEQUENCE_NUMBER" for l in group["Leases"])

            wait_for(all_checkpointed, 30, "a checkpoint on every shard")
            before = via_router.describe_group(stream, "g")
            dead = [l for l in before["Leases"] if l.get("Owner") == "a"]
            workers["a"].send_signal(signal.SIGKILL)
            workers["a"].wait(timeout=10)
            killed = time.monotonic()
            wait_for(lambda: sorted(owners(via_node.describe_group(stream, "g")).values()) == ["b"] * 4, 15,
                     "the survivor holding every shard")
            moved = time.monotonic() - killed
            assert moved >= failover / 1000 * 0.5, f"leases moved after {moved:.1f}s, before they could expire"

            # The killed worker's token is fenced out: its checkpoint is refused and the survivor's stands.
            lease = dead[0]
            newer = kinesis.put_record(StreamName=stream, Data=b"late", PartitionKey="p",
                                       ExplicitHashKey=str(HASH_MAX // 8 * (2 * int(lease["ShardId"][-1]) + 1)))
            assert newer["ShardId"] == lease["ShardId"]
            refused(lambda: via_router.checkpoint(stream, "g", "a", lease["ShardId"], lease["LeaseToken"],
                                                  newer["SequenceNumber"]), "ResourceInUseException")

            # `rill status` shows the group with each shard's owner and lag.
            shown = subprocess.run([str(rill_bin), "status", "--endpoint", cluster.node(1).endpoint],
                                   capture_output=True, text=True, timeout=30)
            assert shown.returncode == 0, shown.stderr
            rows = [line for line in shown.stdout.splitlines() if line.startswith(f"{stream}/g")]
            assert len(rows) == 4 and all(" b " in row for row in rows), shown.stdout

            # SIGTERM: the survivor releases its leases on the way out.
            workers["b"].send_signal(signal.SIGTERM)
            assert workers["b"].wait(timeout=30) == 0
            assert owners(via_router.describe_group(stream, "g")) == {}
            state = json.loads(states["b"].read_text())
            assert state["released"] and state["leases"] == {}
        finally:
            for process in workers.values():
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=10)
