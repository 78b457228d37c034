"""The chaos fault hooks of `/admin/faults` on real processes (issue 6): an isolated node gets no Raft
traffic and cannot forward, and heal brings it back. Conditions are awaited with deadlines, never slept on.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from cluster import Cluster, member_states
from conftest import DEFAULT_BIN, wait_active, wait_for

BINARY = Path(os.environ.get("RILL_BIN", DEFAULT_BIN))
STREAM = "faults"
SHARD = "shardId-000000000000"


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(BINARY, tmp_path, extra=["--fault-injection"]).start()
    yield c
    try:
        c.assert_placement(timeout=60)
    finally:
        c.stop()


def post_faults(node, command: dict) -> dict:
    request = urllib.request.Request(node.endpoint + "/admin/faults", data=json.dumps(command).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def shard_group(node) -> dict:
    for group in node.status()["groups"]:
        if group.get("stream") == STREAM and group.get("shardId") == SHARD:
            return group
    raise AssertionError(f"node {node.node_id} holds no replica of {SHARD}")


def put(client, count: int) -> None:
    records = [{"Data": uuid.uuid4().hex.encode(), "PartitionKey": uuid.uuid4().hex} for _ in range(count)]
    result = client.put_records(StreamName=STREAM, Records=records)
    assert result["FailedRecordCount"] == 0, result


def test_isolation_stops_replication_to_the_isolated_node_and_heal_restores_it(cluster):
    cluster.node(1).client().create_stream(StreamName=STREAM, ShardCount=1)
    wait_active(cluster.node(1).client(), STREAM)
    leader = cluster.node(cluster.leader_of(STREAM, SHARD))
    cut = next(n for n in cluster.nodes if n is not leader)
    others = [n for n in cluster.nodes if n is not cut]
    put(leader.client(), 10)
    wait_for(lambda: shard_group(cut)["applied"] >= shard_group(leader)["commit"] > 0, 10, "first records on every node")

    # Both sides cut the link, as the chaos partition nemesis does.
    shown = post_faults(cut, {"isolate": [n.node_id for n in others]})
    assert shown["isolated"] == sorted(n.node_id for n in others)
    for node in others:
        post_faults(node, {"isolate": [cut.node_id]})
    before = shard_group(cut)["lastIndex"]

    put(leader.client(), 50)
    committed = shard_group(leader)["commit"]
    assert committed > before
    # The leader committed with the third node; the isolated replica saw none of it.
    assert shard_group(cut)["lastIndex"] == before
    assert post_faults(leader, {})["droppedMessages"] > 0
    # RPC is cut too: the isolated node cannot forward a write to the leader.
    with pytest.raises((ClientError, BotoCoreError)):
        cut.client(read_timeout=15, retries={"max_attempts": 0}).put_record(
            StreamName=STREAM, Data=b"x", PartitionKey="k")

    for node in cluster.nodes:
        assert post_faults(node, {"heal": True})["isolated"] == []
    wait_for(lambda: shard_group(cut)["applied"] >= committed, 30, "the healed node catching up")
    cluster.wait_converged(timeout=60)


def test_fault_calls_name_the_flag_they_need(tmp_path):
    c = Cluster(BINARY, tmp_path).start()
    try:
        node = c.node(1)
        for call in (lambda: node.get("/admin/faults"), lambda: post_faults(node, {"heal": True})):
            with pytest.raises(urllib.error.HTTPError) as refused:
                call()
            assert refused.value.code == 403
            assert "--fault-injection" in refused.value.read().decode()
    finally:
        c.stop()


def test_delayed_links_slow_commits_and_heal_ends_the_delay(cluster):
    client = cluster.node(1).client()
    client.create_stream(StreamName=STREAM, ShardCount=1)
    wait_active(client, STREAM)
    leader = cluster.node(cluster.leader_of(STREAM, SHARD))
    others = [n for n in cluster.nodes if n is not leader]
    put(leader.client(), 5)

    # Every frame the leader sends waits 300-350 ms: a commit needs a round trip, so a write takes that long.
    shown = post_faults(leader, {"delay": [{"peer": n.node_id, "millis": 300, "jitterMillis": 50} for n in others]})
    assert shown["delay"] == [{"peer": n.node_id, "millis": 300, "jitterMillis": 50} for n in others]
    started = time.monotonic()
    put(leader.client(read_timeout=15), 1)
    assert time.monotonic() - started >= 0.3
    assert post_faults(leader, {})["delayedMessages"] > 0

    healed = post_faults(leader, {"heal": True})
    assert healed["delay"] == []
    put(leader.client(), 5)
    cluster.wait_converged(timeout=60)


def test_leadership_does_not_go_home_to_a_node_cut_off_after_it_caught_up(cluster):
    """Homecoming moves a shard back to its preferred replica once that replica has been caught up for 10 s.
    A replica cut off while nothing is written still looks caught up by the leader's books; a transfer to it
    refused writes until it timed out (a chaos run's partition stalled two shards this way). Gossip must also
    see it alive. Once healed, leadership does go home."""
    client = cluster.node(1).client()
    client.create_stream(StreamName=STREAM, ShardCount=1)
    wait_active(client, STREAM)
    home = cluster.node(cluster.leader_of(STREAM, SHARD))  # a new shard is led by its preferred replica
    others = [n for n in cluster.nodes if n is not home]
    put(home.client(), 5)
    home.kill()
    survivor = cluster.node(cluster.leader_of(STREAM, SHARD, via=others[0], timeout=20))
    assert survivor is not home
    put(survivor.client(read_timeout=15), 5)
    home.start()
    cluster.wait_ready(nodes=[home])
    wait_for(lambda: shard_group(home)["applied"] >= shard_group(survivor)["commit"], 30, "the returned node caught up")
    # Cut off both ways with nothing being written: by the leader's books it stays caught up.
    post_faults(home, {"isolate": [n.node_id for n in others]})
    for node in others:
        post_faults(node, {"isolate": [home.node_id]})
    moves_before = survivor.log_path.read_text(errors="replace").count("moving shard leadership back")
    try:
        wait_for(lambda: member_states(survivor).get(home.node_id) != "alive", 15, "gossip sees the cut-off node down")
        # Watch the shard past the homecoming delay (10 s of being caught up, checked each second).
        watched_until = time.monotonic() + 13
        while time.monotonic() < watched_until:
            assert shard_group(survivor)["leader"] == survivor.node_id
            time.sleep(0.25)
        moves = survivor.log_path.read_text(errors="replace").count("moving shard leadership back") - moves_before
        assert moves == 0, "leadership was handed to a node gossip saw cut off"
        started = time.monotonic()
        put(survivor.client(read_timeout=10), 1)
        assert time.monotonic() - started < 2.0
    finally:
        for node in cluster.nodes:
            post_faults(node, {"heal": True})
    wait_for(lambda: shard_group(survivor)["leader"] == home.node_id, 60, "leadership back home after the heal")
