"""Three real `rill node` processes on loopback: replication, failover and recovery (issue 3).

Writers never retry, so every record that shows up twice was duplicated by the server; every record a
write acknowledged must be read back after the faults heal.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from cluster import Cluster
from conftest import DEFAULT_BIN, read_shard, wait_active
import os
from pathlib import Path

BINARY = Path(os.environ.get("RILL_BIN", DEFAULT_BIN))
STREAM = "orders"


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(BINARY, tmp_path).start()
    yield c
    try:
        # Whatever the test broke, once it is over every shard has its placed voters on every live node.
        c.assert_placement(timeout=60)
    finally:
        c.stop()


class Writer(threading.Thread):
    """PutRecords of unique ids, in a loop, through one node; remembers what was acknowledged."""

    def __init__(self, node, stream: str, batch: int = 20, limit_seconds: float = 120.0):
        super().__init__(daemon=True)
        # botocore's max_attempts counts retries: 0 means one attempt, so every duplicate is the server's.
        self.client = node.client(read_timeout=10, connect_timeout=2, retries={"max_attempts": 0})
        self.stream, self.batch, self.limit = stream, batch, limit_seconds
        self.acked: dict[str, tuple[str, str]] = {}
        self.indeterminate: set[str] = set()
        self.failures: list[str] = []
        self.last_ack: dict[str, float] = {}
        self.acks_after: dict[str, list[float]] = {}
        self.stopping = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        while not self.stopping.is_set() and time.monotonic() - started < self.limit:
            ids = [uuid.uuid4().hex for _ in range(self.batch)]
            sent = time.monotonic()
            try:
                reply = self.client.put_records(
                    StreamName=self.stream, Records=[{"Data": i.encode(), "PartitionKey": i} for i in ids])
            except (ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError) as error:
                self.indeterminate.update(ids)
                self.failures.append(type(error).__name__ + ": " + str(error)[:300])
                time.sleep(0.02)
                continue
            now = time.monotonic()
            for record_id, result in zip(ids, reply["Records"]):
                if "SequenceNumber" in result:
                    self.acked[record_id] = (result["ShardId"], result["SequenceNumber"])
                    self.last_ack[result["ShardId"]] = now
                    self.acks_after.setdefault(result["ShardId"], []).append((sent, now))
                else:
                    self.indeterminate.add(record_id)
                    self.failures.append(result.get("ErrorCode", "?") + ": " + result.get("ErrorMessage", ""))

    def first_ack_after(self, shard: str, moment: float):
        """When the first write sent after `moment` was acknowledged on `shard`."""
        return next((acked for sent, acked in self.acks_after.get(shard, []) if sent > moment), None)


def read_everything(node, stream: str) -> dict[str, list[tuple[str, str]]]:
    client = node.client(read_timeout=30)
    out = {}
    for shard in client.list_shards(StreamName=stream)["Shards"]:
        records = read_shard(client, stream, shard["ShardId"], timeout=60)
        out[shard["ShardId"]] = [(r["Data"].decode(), r["SequenceNumber"]) for r in records]
    return out


def check_history(writer: Writer, reads: dict[str, list[tuple[str, str]]]) -> None:
    seen: dict[str, tuple[str, str]] = {}
    for shard, records in reads.items():
        sequences = [int(seq) for _, seq in records]
        assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences), f"{shard} out of order"
        for record_id, seq in records:
            assert record_id not in seen, f"record {record_id} duplicated by the server"
            seen[record_id] = (shard, seq)
    lost = [i for i in writer.acked if i not in seen]
    assert not lost, f"{len(lost)} acknowledged records lost, e.g. {lost[:5]}"
    moved = [i for i, where in writer.acked.items() if seen[i] != where]
    assert not moved, f"acknowledged records read at another position: {moved[:5]}"
    unexpected = [i for i in seen if i not in writer.acked and i not in writer.indeterminate]
    assert not unexpected, f"records nobody wrote: {unexpected[:5]}"


def test_three_nodes_serve_every_call_on_every_node_and_agree(cluster):
    a, b, c = (n.client() for n in cluster.nodes)
    b.create_stream(StreamName=STREAM, ShardCount=4)
    wait_active(c, STREAM)
    ids = [uuid.uuid4().hex for _ in range(200)]
    reply = a.put_records(StreamName=STREAM, Records=[{"Data": i.encode(), "PartitionKey": i} for i in ids])
    assert reply["FailedRecordCount"] == 0
    leaders = {cluster.leader_of(STREAM, f"shardId-00000000000{i}") for i in range(4)}
    assert len(leaders) == 3, f"leadership of 4 shards should spread over all 3 nodes, got {leaders}"
    for node in cluster.nodes:
        got = {record_id for records in read_everything(node, STREAM).values() for record_id, _ in records}
        assert got == set(ids)
    sums = cluster.wait_converged()
    assert all(len(s["shards"]) == 4 for s in sums.values())
    assert sum(s["records"] for s in sums[1]["shards"]) == 200
    # /metrics: every group has exactly one leader across the three nodes (sampled once a second).
    deadline = time.monotonic() + 10
    leaders = {}
    while time.monotonic() < deadline:
        leaders = {}
        for node in cluster.nodes:
            text = node.get("/metrics")[1].decode()
            for line in text.splitlines():
                if line.startswith("rill_raft_role{") and float(line.rsplit(" ", 1)[1]) == 2:
                    group = line.split('group="', 1)[1].split('"', 1)[0]
                    leaders.setdefault(group, []).append(node.node_id)
        if len(leaders) == 5 and all(len(v) == 1 for v in leaders.values()):
            break
        time.sleep(0.2)
    assert len(leaders) == 5 and all(len(v) == 1 for v in leaders.values()), leaders


@pytest.mark.parametrize("victim_role", ["shard leader", "metadata leader"])
def test_kill_9_of_a_leader_under_load_loses_nothing_and_writes_resume(cluster, victim_role):
    cluster.node(1).client().create_stream(StreamName=STREAM, ShardCount=4)
    wait_active(cluster.node(1).client(), STREAM)
    shard = "shardId-000000000000"
    if victim_role == "shard leader":
        victim = cluster.leader_of(STREAM, shard)
    else:
        victim = next(g["leader"] for g in cluster.node(1).status()["groups"] if g["group"] == "meta")
    entry = cluster.node(victim % 3 + 1)
    writer = Writer(entry, STREAM)
    writer.start()
    deadline = time.monotonic() + 20
    while len(writer.acked) < 500 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(writer.acked) >= 500, f"writes did not flow: {writer.failures[:5]}"
    killed_at = time.monotonic()
    cluster.node(victim).kill()
    deadline = killed_at + 15
    while time.monotonic() < deadline and not all(writer.first_ack_after(f"shardId-00000000000{i}", killed_at + 0.001)
                                                  for i in range(4)):
        time.sleep(0.05)
    resumed = {i: writer.first_ack_after(f"shardId-00000000000{i}", killed_at) for i in range(4)}
    assert all(resumed.values()), f"writes did not resume on every shard: {resumed}, {writer.failures[-5:]}"
    outage = max(t - killed_at for t in resumed.values())
    print(f"\nkill -9 of node {victim} ({victim_role}): every shard took writes again after {outage:.2f} s")
    assert outage < 5.0, f"writes resumed only after {outage:.2f}s"
    cluster.node(victim).start()
    cluster.wait_ready(nodes=[cluster.node(victim)])
    time.sleep(0.5)
    writer.stopping.set()
    writer.join(timeout=30)
    cluster.wait_converged(timeout=60)
    check_history(writer, read_everything(entry, STREAM))
    if victim_role == "shard leader":
        # The shard was placed with the victim as preferred leader: leadership goes home once it caught up.
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and cluster.leader_of(STREAM, shard) != victim:
            time.sleep(0.2)
        assert cluster.leader_of(STREAM, shard) == victim, "leadership did not move back to the returned node"


def test_kill_9_of_every_node_at_once_keeps_every_acknowledged_record(cluster):
    cluster.node(2).client().create_stream(StreamName=STREAM, ShardCount=3)
    wait_active(cluster.node(2).client(), STREAM)
    writer = Writer(cluster.node(3), STREAM)
    writer.start()
    deadline = time.monotonic() + 20
    while len(writer.acked) < 1000 and time.monotonic() < deadline:
        time.sleep(0.05)
    cluster.kill_all()
    writer.stopping.set()
    writer.join(timeout=30)
    assert len(writer.acked) >= 1000
    for node in cluster.nodes:
        node.start()
    cluster.wait_ready()
    check_history(writer, read_everything(cluster.node(1), STREAM))
    cluster.wait_converged()


def test_after_a_clean_restart_of_every_node_each_node_reads_every_acknowledged_record_at_once(cluster):
    """Followers learn a shard's commit index from the append after it (or a heartbeat), so the last writes
    before a clean stop may be committed on the leader alone. Read the moment the restarted cluster is ready,
    through every node, no record may be missing: a read is served only by a leader that applied an entry
    of its term, never by a replica that merely opened with its old commit hint."""
    client = cluster.node(1).client()
    client.create_stream(StreamName=STREAM, ShardCount=4)
    wait_active(client, STREAM)
    acked: dict[str, set[str]] = {}
    for round_ in range(2):
        for i in range(40):
            reply = cluster.node(1 + i % 3).client().put_record(StreamName=STREAM, Data=b"r%d" % i,
                                                                PartitionKey=uuid.uuid4().hex)
            acked.setdefault(reply["ShardId"], set()).add(reply["SequenceNumber"])
        for node in cluster.nodes:
            assert node.stop() == 0, node.log_tail()
        for node in cluster.nodes:
            node.start()
        cluster.wait_ready()
        for node in cluster.nodes:
            for shard, sequences in acked.items():
                read = {r["SequenceNumber"] for r in read_shard(node.client(), STREAM, shard, timeout=30)}
                missing = sequences - read
                assert not missing, f"round {round_}: node {node.node_id} read {shard} without {len(missing)} records"


def test_a_paused_leader_is_replaced_and_catches_up_after_it_resumes(cluster):
    cluster.node(1).client().create_stream(StreamName=STREAM, ShardCount=2)
    wait_active(cluster.node(1).client(), STREAM)
    victim = cluster.leader_of(STREAM, "shardId-000000000001")
    entry = cluster.node(victim % 3 + 1)
    writer = Writer(entry, STREAM)
    writer.start()
    time.sleep(0.5)
    paused_at = time.monotonic()
    cluster.node(victim).pause()
    try:
        deadline = paused_at + 15
        while time.monotonic() < deadline and not writer.first_ack_after("shardId-000000000001", paused_at + 2.5):
            time.sleep(0.05)
        assert writer.first_ack_after("shardId-000000000001", paused_at + 2.5), "writes did not resume"
    finally:
        cluster.node(victim).resume()
    writer.stopping.set()
    writer.join(timeout=30)
    cluster.wait_converged(timeout=60)
    check_history(writer, read_everything(entry, STREAM))


def test_a_write_forwarded_to_a_paused_leader_is_answered_once_its_term_ends(cluster):
    """A PutRecord that a node forwards to its shard's leader, when that leader has just been SIGSTOPped, is
    answered as soon as the forwarding node's own replica sees the shard elect past the paused leader: an
    InternalFailure (the outcome is unknown: the paused leader may have handed the record on), not a wait for
    the 5 s call timeout. The retry lands on the new leader, and nothing acknowledged is lost."""
    admin = cluster.node(1).client()
    admin.create_stream(StreamName=STREAM, ShardCount=1)
    wait_active(admin, STREAM)
    victim = cluster.leader_of(STREAM, "shardId-000000000000")
    entry = cluster.node(victim % 3 + 1)
    client = entry.client(retries={"total_max_attempts": 1}, read_timeout=30)
    acked = [client.put_record(StreamName=STREAM, Data=b"before", PartitionKey="k")["SequenceNumber"]]
    cluster.node(victim).pause()
    try:
        started = time.monotonic()
        try:
            client.put_record(StreamName=STREAM, Data=b"during", PartitionKey="k")
            outcome = "acknowledged"
        except ClientError as error:
            outcome = error.response["Error"]["Code"]
        waited = time.monotonic() - started
        # Sent the moment the leader stopped, before any election: it can only have gone to the paused leader.
        assert outcome == "InternalFailureException", outcome
        assert waited < 4.0, f"answered after {waited:.1f} s: the forward waited out its call timeout"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                acked.append(client.put_record(StreamName=STREAM, Data=b"after", PartitionKey="k")["SequenceNumber"])
                break
            except ClientError:
                time.sleep(0.05)
        assert len(acked) == 2, "no write was acknowledged after the new election"
        assert cluster.leader_of(STREAM, "shardId-000000000000", via=entry) != victim
    finally:
        cluster.node(victim).resume()
    cluster.wait_converged(timeout=60)
    stored = [r["SequenceNumber"] for r in read_shard(entry.client(), STREAM, "shardId-000000000000")]
    assert all(sequence in stored for sequence in acked), (acked, stored)


def test_a_wiped_node_gets_its_replicas_back_while_writes_continue_then_counts_again(cluster):
    import shutil
    cluster.node(1).client().create_stream(StreamName=STREAM, ShardCount=3)
    wait_active(cluster.node(1).client(), STREAM)
    writer = Writer(cluster.node(1), STREAM)
    writer.start()
    deadline = time.monotonic() + 20
    while len(writer.acked) < 500 and time.monotonic() < deadline:
        time.sleep(0.05)
    wiped = cluster.node(3)
    wiped.kill()
    shutil.rmtree(wiped.data_dir)
    wiped.data_dir.mkdir()
    before = len(writer.acked)
    wiped.start()
    cluster.wait_ready(nodes=[wiped])
    # Caught up: every group of the stream is open on the wiped node and none abstains any more.
    deadline = time.monotonic() + 60
    groups = []
    while time.monotonic() < deadline:
        groups = [g for g in wiped.status()["groups"] if g["group"] == "meta" or g.get("stream") == STREAM]
        if len(groups) == 4 and not any(g["abstaining"] for g in groups):
            break
        time.sleep(0.1)
    assert len(groups) == 4 and not any(g["abstaining"] for g in groups), groups
    deadline = time.monotonic() + 10
    while len(writer.acked) <= before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(writer.acked) > before, f"writes stopped: {writer.failures[-3:]}"
    # Now node 3 must count: with node 2 gone, nodes 1 and 3 still make a majority for every group.
    cluster.node(2).kill()
    killed_at = time.monotonic()
    deadline = killed_at + 15
    while time.monotonic() < deadline and not all(
            writer.first_ack_after(f"shardId-00000000000{i}", killed_at) for i in range(3)):
        time.sleep(0.05)
    assert all(writer.first_ack_after(f"shardId-00000000000{i}", killed_at) for i in range(3)), (
        writer.failures[-3:], cluster.node(1).status(), cluster.node(3).status())
    writer.stopping.set()
    writer.join(timeout=30)
    cluster.node(2).start()
    cluster.wait_ready()
    cluster.wait_converged(timeout=90)
    check_history(writer, read_everything(cluster.node(1), STREAM))


def test_a_replica_whose_log_lost_its_synced_tail_abstains_until_caught_up_then_votes_again(cluster):
    """A shard replica whose log ends below what it had synced (a disk that lost writes) is damaged: it may
    have acknowledged entries it no longer holds, so it must not vote until it has caught up, across restarts
    too (a marker file says so). Once caught up, the controller removes the marker and the replica votes again."""
    client = cluster.node(1).client()
    client.create_stream(StreamName=STREAM, ShardCount=1)
    wait_active(client, STREAM)
    shard = "shardId-000000000000"
    leader = cluster.leader_of(STREAM, shard)
    victim = next(n for n in cluster.nodes if n.node_id != leader)
    writer = cluster.node(leader).client()
    for _ in range(5):
        reply = writer.put_records(StreamName=STREAM, Records=[
            {"Data": uuid.uuid4().hex.encode(), "PartitionKey": uuid.uuid4().hex} for _ in range(50)])
        assert reply["FailedRecordCount"] == 0
    cluster.wait_converged()
    victim.stop()
    segments = sorted(victim.data_dir.glob(f"shards/*/{shard}/*.log"))
    assert segments, list(victim.data_dir.rglob("*"))[:20]
    os.truncate(segments[-1], segments[-1].stat().st_size // 2)
    marker = segments[-1].parent / "abstaining"
    victim.start()
    cluster.wait_ready(nodes=[victim])

    def settled() -> bool:
        groups = [g for g in victim.status()["groups"] if g.get("stream") == STREAM]
        return len(groups) == 1 and not groups[0]["abstaining"] and not marker.exists()

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not settled():
        time.sleep(0.1)
    assert settled(), (marker.exists(), victim.status()["groups"], victim.log_tail())
    log = victim.log_path.read_text(errors="replace")
    assert "shard log damaged" in log and "a damaged replica caught up and votes again" in log, victim.log_tail()
    cluster.wait_converged()
    # It counts again: with the leader gone, the two others elect and take writes.
    cluster.node(leader).kill()
    survivor = next(n for n in cluster.nodes if n.alive())
    retrying = survivor.client(retries={"max_attempts": 10, "mode": "standard"})
    reply = retrying.put_records(StreamName=STREAM, Records=[{"Data": b"after", "PartitionKey": "k"}])
    assert reply["FailedRecordCount"] == 0
    cluster.node(leader).start()
    cluster.wait_ready()


def test_ready_only_once_the_cluster_formed(tmp_path):
    """/health answers at once; /ready is 503 while the node waits for its peers, 200 after."""
    import urllib.error
    c = Cluster(BINARY, tmp_path)
    try:
        first = c.node(1)
        first.start()
        deadline = time.monotonic() + 30
        health = None
        while time.monotonic() < deadline:
            try:
                health = first.get("/health")[0]
                break
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        assert health == 200
        with pytest.raises(urllib.error.HTTPError) as refused:
            first.get("/ready")
        assert refused.value.code == 503
        assert b"looking for the cluster" in refused.value.read()
        # A Kinesis call while starting: ServiceUnavailable (503), which SDKs retry.
        client = first.client(retries={"max_attempts": 1})
        with pytest.raises(ClientError) as starting:
            client.list_streams()
        assert starting.value.response["Error"]["Code"] == "ServiceUnavailable"
        assert starting.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        # From the first /health on, the port never refuses a connection: the listener that said "starting" is
        # the one that serves the node (a second listener used to leave a gap when it took over).
        outcomes: dict[str, int] = {}
        stop = threading.Event()

        def poll() -> None:
            deadline = time.monotonic() + 60
            while not stop.is_set() and time.monotonic() < deadline:
                try:
                    client.list_streams()
                    outcome = "ok"
                except ClientError as error:
                    outcome = error.response["Error"]["Code"]
                except EndpointConnectionError:
                    outcome = "refused"
                outcomes[outcome] = outcomes.get(outcome, 0) + 1

        poller = threading.Thread(target=poll)
        poller.start()
        try:
            c.node(2).start()
            c.node(3).start()
            c.wait_ready()
            assert first.get("/ready")[0] == 200
            deadline = time.monotonic() + 30
            while outcomes.get("ok", 0) < 5 and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            stop.set()
            poller.join(30)
        assert outcomes.get("ok", 0) >= 5 and set(outcomes) <= {"ok", "ServiceUnavailable"}, outcomes
    finally:
        c.stop()


@pytest.mark.parametrize("disk", ["kept", "wiped"])
def test_a_replica_behind_the_leaders_retention_trim_catches_up_from_a_snapshot(tmp_path, disk):
    """A follower down while its leader trimmed expired segments cannot get those entries any more: it gets
    a snapshot (the new log start and its term) and then the entries after it, and converges. A wiped one
    also stops abstaining once caught up."""
    import json
    import shutil
    import urllib.request

    def post_faults(node, command: dict) -> None:
        request = urllib.request.Request(node.endpoint + "/admin/faults", data=json.dumps(command).encode(),
                                         method="POST")
        with urllib.request.urlopen(request, timeout=5) as reply:
            assert reply.status == 200

    def shard_sums(node) -> dict:
        return next(s for s in node.checksums()["shards"] if s["shardId"] == "shardId-000000000000")

    cluster = Cluster(BINARY, tmp_path,
                      extra=["--fault-injection", "--segment-bytes", "65536", "--retention-interval", "1"]).start()
    try:
        client = cluster.node(1).client()
        client.create_stream(StreamName=STREAM, ShardCount=1)
        wait_active(client, STREAM)
        leader = cluster.leader_of(STREAM, "shardId-000000000000")
        behind = next(n for n in cluster.nodes if n.node_id != leader)
        behind.kill()
        writer = cluster.node(leader).client(retries={"max_attempts": 0})
        for _ in range(12):  # ~600 KiB: about ten 64 KiB segments
            reply = writer.put_records(StreamName=STREAM, Records=[
                {"Data": b"x" * 1000, "PartitionKey": uuid.uuid4().hex} for _ in range(50)])
            assert reply["FailedRecordCount"] == 0
        # A day and more later, by the live nodes' clocks: every segment but the newest has expired.
        for node in cluster.nodes:
            if node.alive():
                post_faults(node, {"clock": {"jumpMillis": 25 * 3600 * 1000}})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and shard_sums(cluster.node(leader))["firstIndex"] <= 1:
            time.sleep(0.1)
        first = shard_sums(cluster.node(leader))["firstIndex"]
        assert first > 1, "the leader never trimmed"
        kept = []
        for _ in range(3):
            reply = writer.put_records(StreamName=STREAM, Records=[
                {"Data": uuid.uuid4().hex.encode(), "PartitionKey": uuid.uuid4().hex} for _ in range(20)])
            assert reply["FailedRecordCount"] == 0
            kept += [r["SequenceNumber"] for r in reply["Records"]]
        if disk == "wiped":
            shutil.rmtree(behind.data_dir)
            behind.data_dir.mkdir()
        behind.start()
        cluster.wait_ready(nodes=[behind])
        post_faults(behind, {"clock": {"jumpMillis": 25 * 3600 * 1000}})
        cluster.wait_converged(timeout=60)
        assert shard_sums(behind)["firstIndex"] >= first
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(g["abstaining"] for g in behind.status()["groups"]):
            time.sleep(0.1)
        assert not any(g["abstaining"] for g in behind.status()["groups"]), behind.status()["groups"]
        # The caught-up replica serves the records after the trim once it leads: stop the others in turn.
        leader_node = cluster.node(leader)
        leader_node.stop()
        cluster.wait_ready(nodes=[behind])
        records = read_shard(behind.client(), STREAM, "shardId-000000000000", timeout=60)
        assert [r["SequenceNumber"] for r in records][-len(kept):] == kept
    finally:
        cluster.stop()


def test_idle_groups_rest_and_an_idle_shard_fails_over_after_kill_9_of_its_leader(cluster):
    """Idle groups stop ticking (no heartbeats); losing the leader of a resting shard still elects a new one
    quickly, because gossip's suspicion wakes the followers."""
    client = cluster.node(1).client(retries={"max_attempts": 0}, read_timeout=10, connect_timeout=2)
    client.create_stream(StreamName=STREAM, ShardCount=3)
    wait_active(client, STREAM)
    client.put_record(StreamName=STREAM, Data=b"before", PartitionKey="k")

    def resting(node) -> bool:
        groups = node.status()["groups"]
        return len(groups) == 4 and all(g["resting"] for g in groups)

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(resting(n) for n in cluster.nodes):
        time.sleep(0.1)
    assert all(resting(n) for n in cluster.nodes), [n.status()["groups"] for n in cluster.nodes]

    shard = "shardId-000000000001"
    leader = cluster.leader_of(STREAM, shard)
    survivor = next(n for n in cluster.nodes if n.node_id != leader)
    key = next(s["HashKeyRange"]["StartingHashKey"] for s in client.list_shards(StreamName=STREAM)["Shards"]
               if s["ShardId"] == shard)
    writer = survivor.client(retries={"max_attempts": 0}, read_timeout=5, connect_timeout=2)
    cluster.node(leader).kill()
    killed = time.monotonic()
    reply = None
    while time.monotonic() - killed < 15:
        try:
            reply = writer.put_record(StreamName=STREAM, Data=b"after", PartitionKey="k", ExplicitHashKey=key)
            break
        except (ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError):
            time.sleep(0.05)
    assert reply is not None and reply["ShardId"] == shard, "the idle shard never took a write after its leader died"
    assert time.monotonic() - killed < 6, f"failover of an idle shard took {time.monotonic() - killed:.1f}s"
