"""Membership changes of a running cluster (issue 3): a node joins a formed cluster, a member is removed and its
replicas move to another node of its zone, one single-server Raft change at a time, while writes continue."""

from __future__ import annotations

import json
import subprocess
import time

from conftest import wait_active
# The three-node fixture and the writer that remembers what was acknowledged are the replication tests'.
from test_cluster import BINARY, STREAM, Writer, check_history, cluster, read_everything  # noqa: F401


def wait_for(condition, timeout: float, message):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(message() if callable(message) else message)


def stream_groups(node) -> list[dict]:
    return [g for g in node.status()["groups"] if g.get("stream") == STREAM]


def start_writing(cluster, via: int, count: int = 300) -> Writer:
    cluster.node(via).client().create_stream(StreamName=STREAM, ShardCount=3)
    wait_active(cluster.node(via).client(), STREAM)
    writer = Writer(cluster.node(via), STREAM)
    writer.start()
    wait_for(lambda: len(writer.acked) >= count, 30, lambda: f"no writes: {writer.failures[-3:]}")
    return writer


def remove(node, member: int) -> None:
    status, body = node.post("/admin/members/remove", json.dumps({"node": member}).encode())
    assert status == 200, body


def test_a_dead_node_is_replaced_by_a_new_node_in_its_zone_which_then_counts_toward_commits(cluster):
    writer = start_writing(cluster, via=1)
    cluster.node(3).kill()
    newcomer = cluster.add_node(4, zone="az-c")
    newcomer.start()
    cluster.wait_ready(nodes=[newcomer])
    # The controller admits it as a member: a learner of the metadata group.
    wait_for(lambda: 4 in next(g for g in cluster.node(1).status()["groups"] if g["group"] == "meta")["learners"]
             + next(g for g in cluster.node(1).status()["groups"] if g["group"] == "meta")["voters"], 30,
             lambda: cluster.node(1).status())
    removed_at = time.monotonic()
    remove(cluster.node(2), 3)
    # Node 3's place goes to node 4, the one other node of az-c: every shard group and the metadata group.
    wait_for(lambda: cluster.node(1).status()["movingShards"] == 0, 60, lambda: cluster.node(1).status())
    wait_for(lambda: len(stream_groups(newcomer)) == 3
             and all(g["voters"] == [1, 2, 4] and not g["abstaining"] for g in stream_groups(newcomer)), 30,
             lambda: stream_groups(newcomer))
    meta = next(g for g in cluster.node(1).status()["groups"] if g["group"] == "meta")
    assert meta["voters"] == [1, 2, 4], meta
    assert cluster.node(1).status()["removedNodes"] == [3]
    moved_in = time.monotonic() - removed_at
    # `rill status` says what was removed, and lists the newcomer among every stream group's replicas.
    shown = subprocess.run([str(BINARY), "status", "--endpoint", cluster.node(1).endpoint], capture_output=True,
                           text=True, timeout=30)
    assert shown.returncode == 0, shown.stderr
    assert "shards moving to new replicas: 0; removed nodes: 3" in shown.stdout, shown.stdout
    rows = [line for line in shown.stdout.splitlines() if line.startswith(STREAM + "/")]
    assert len(rows) == 3 and all("4: " in row for row in rows), shown.stdout
    # Node 4 now counts: with node 2 gone too, nodes 1 and 4 still make a majority of every group.
    cluster.node(2).kill()
    killed_at = time.monotonic()
    shards = [f"shardId-00000000000{i}" for i in range(3)]
    wait_for(lambda: all(writer.first_ack_after(s, killed_at) for s in shards), 20,
             lambda: (writer.failures[-3:], cluster.node(1).status()))
    writer.stopping.set()
    writer.join(timeout=30)
    cluster.node(2).start()
    cluster.wait_ready(nodes=[cluster.node(1), cluster.node(2), newcomer])
    sums = cluster.wait_converged(timeout=90)
    assert sorted(sums) == [1, 2, 4]
    check_history(writer, read_everything(cluster.node(1), STREAM))
    print(f"moved 3 shards to the new node in {moved_in:.1f}s with {len(writer.acked)} records acknowledged")


def test_a_live_member_removed_hands_over_its_leadership_and_deletes_its_copies(cluster):
    newcomer = cluster.add_node(4, zone="az-a")
    newcomer.start()
    cluster.wait_ready(nodes=[newcomer])
    writer = start_writing(cluster, via=2)
    # A stream created with four members still has one replica per zone.
    zones = {1: "az-a", 2: "az-b", 3: "az-c", 4: "az-a"}
    for group in stream_groups(cluster.node(2)):
        assert sorted(zones[v] for v in group["voters"]) == ["az-a", "az-b", "az-c"], group
    # Node 1 founded the cluster, and leads a shard and perhaps the metadata group: it hands them over.
    leaving = cluster.node(1)
    remove(cluster.node(3), 1)
    wait_for(lambda: cluster.node(2).status()["movingShards"] == 0, 60, lambda: cluster.node(2).status())
    for node in (cluster.node(2), cluster.node(3), newcomer):
        wait_for(lambda: len(stream_groups(node)) == 3 and all(1 not in g["voters"] for g in stream_groups(node)), 30,
                 lambda: stream_groups(node))
    # The removed node read the end of every move, so it deleted its copies.
    wait_for(lambda: not stream_groups(leaving), 30, lambda: stream_groups(leaving))
    shard_dirs = list((leaving.data_dir / "shards").glob("*/*"))
    assert not shard_dirs, shard_dirs
    before = len(writer.acked)
    wait_for(lambda: len(writer.acked) > before + 100, 20, lambda: writer.failures[-3:])
    writer.stopping.set()
    writer.join(timeout=30)
    leaving.stop()
    sums = cluster.wait_converged(timeout=90)
    assert sorted(sums) == [2, 3, 4]
    check_history(writer, read_everything(cluster.node(2), STREAM))
    # Restarted on its old data, the removed node learns it was removed and exits, saying why.
    leaving.start()
    assert leaving.proc.wait(timeout=30) == 78, leaving.log_tail()
    assert "this node was removed from the cluster" in leaving.log_path.read_text(), leaving.log_tail()
    # A removed node's id is not taken back, and removing an unknown node says so.
    status, body = cluster.node(2).post("/admin/members/remove", b'{"node": 99}')
    assert status == 404, body
    status, body = cluster.node(2).post("/admin/members/remove", b'{"node": "x"}')
    assert status == 400, body


def test_a_node_that_joins_takes_its_share_of_its_zone_while_writes_continue(cluster):
    cluster.node(1).client().create_stream(StreamName=STREAM, ShardCount=6)
    wait_active(cluster.node(1).client(), STREAM)
    writer = Writer(cluster.node(3), STREAM)
    writer.start()
    wait_for(lambda: len(writer.acked) >= 300, 30, lambda: writer.failures[-3:])
    newcomer = cluster.add_node(4, zone="az-b")
    newcomer.start()
    cluster.wait_ready(nodes=[newcomer])
    wait_for(lambda: len(stream_groups(newcomer)) == 3, 30, lambda: cluster.node(1).status())
    wait_for(lambda: cluster.node(1).status()["movingShards"] == 0, 60, lambda: cluster.node(1).status())
    # Node 2, the other az-b node, gave up the three copies and deleted them.
    wait_for(lambda: len(stream_groups(cluster.node(2))) == 3, 30, lambda: stream_groups(cluster.node(2)))
    for group in stream_groups(newcomer):
        assert 4 in group["voters"] and 2 not in group["voters"], group
    before = len(writer.acked)
    wait_for(lambda: len(writer.acked) > before + 100, 20, lambda: writer.failures[-3:])
    writer.stopping.set()
    writer.join(timeout=30)
    sums = cluster.wait_converged_by_placement(timeout=90)
    assert sorted(sums) == [1, 2, 3, 4]
    check_history(writer, read_everything(cluster.node(1), STREAM))
