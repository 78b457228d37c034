"""`rill router` in front of three real `rill node` processes: every call through it, gossip views, and what
clients see when a node is killed or paused (issue 4's acceptance criteria, with default gossip settings)."""

from __future__ import annotations

import threading
import time
import urllib.error
import uuid

import pytest
from botocore.exceptions import ClientError

from cluster import Cluster, ClusterRouter, member_states

SHARDS = 4
# Errors a Kinesis client retries; anything else (or a hang) during a node loss is a bug.
RETRIABLE = {"InternalFailure", "InternalFailureException", "ServiceUnavailable", "ProvisionedThroughputExceededException"}


@pytest.fixture
def cluster_and_router(rill_bin, tmp_path):
    cluster = Cluster(rill_bin, tmp_path)
    router = ClusterRouter(rill_bin, tmp_path, cluster.nodes[0].join)
    # All at once, as `rill up` and `docker compose up` do: the router's discovery must not disturb formation.
    router.start()
    try:
        cluster.start()
        router.wait_ready()
        yield cluster, router
        for node in cluster.nodes:
            if node.alive() and node.proc is not None:
                node.resume()
        cluster.assert_placement(timeout=60)
    finally:
        router.stop()
        for node in cluster.nodes:
            if node.alive() and node.proc is not None:
                node.resume()
        cluster.stop()


def wait_for(condition, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = condition()
            if last:
                return last
        except (urllib.error.URLError, OSError, KeyError):
            pass
        time.sleep(interval)
    raise AssertionError(f"{what} not within {timeout}s (last: {last})")


def create_stream(client, name: str, shards: int = SHARDS) -> None:
    client.create_stream(StreamName=name, ShardCount=shards)
    client.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})


def spread_records(count: int) -> list[dict]:
    """Records whose explicit hash keys cover every shard of a stream with SHARDS even shards."""
    step = 2**128 // (count + 1)
    return [{"Data": f"r{i}".encode(), "PartitionKey": f"k{i}", "ExplicitHashKey": str(step * (i + 1))}
            for i in range(count)]


def read_all(client, stream: str) -> list[bytes]:
    records = []
    for shard in client.list_shards(StreamName=stream)["Shards"]:
        iterator = client.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = client.get_records(ShardIterator=iterator, Limit=1000)
            records += [r["Data"] for r in page["Records"]]
            if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                break
            iterator = page.get("NextShardIterator")
    return records


def test_router_serves_every_call_and_sees_every_member(cluster_and_router):
    cluster, router = cluster_and_router
    client = router.client()
    create_stream(client, "routed")
    records = spread_records(200)
    answer = client.put_records(StreamName="routed", Records=records)
    assert answer["FailedRecordCount"] == 0
    shards = {r["ShardId"] for r in answer["Records"]}
    assert len(shards) == SHARDS, shards
    single = client.put_record(StreamName="routed", PartitionKey="solo", Data=b"solo")
    assert single["SequenceNumber"]
    # Results come back in request order: each record's shard is the one its hash key falls in.
    listed = {s["ShardId"]: s for s in client.list_shards(StreamName="routed")["Shards"]}
    for record, result in zip(records, answer["Records"]):
        ranges = listed[result["ShardId"]]["HashKeyRange"]
        assert int(ranges["StartingHashKey"]) <= int(record["ExplicitHashKey"]) <= int(ranges["EndingHashKey"])
    stored = read_all(client, "routed")
    assert sorted(stored) == sorted([r["Data"] for r in records] + [b"solo"])
    assert client.describe_stream_summary(StreamName="routed")["StreamDescriptionSummary"]["OpenShardCount"] == SHARDS
    # Every member, the router included, sees all four alive.
    for member in [router, *cluster.nodes]:
        wait_for(lambda: sorted(member_states(member).items()) ==
                 sorted({1: "alive", 2: "alive", 3: "alive", ClusterRouter.ROUTER_ID: "alive"}.items()),
                 5, f"all alive in {member.node_id}'s view")
    metrics = router.get("/metrics")[1].decode()
    forwarded = [line for line in metrics.splitlines() if line.startswith("rill_router_forwarded_total")]
    assert forwarded and float(forwarded[0].split()[-1]) > 0, forwarded
    with pytest.raises(ClientError) as missing:
        client.describe_stream(StreamName="no-such-stream")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


class Writer(threading.Thread):
    """PutRecords covering every shard, one call at a time, no client retries; records what came back."""

    def __init__(self, client, stream: str):
        super().__init__(daemon=True)
        self.client, self.stream = client, stream
        self.stop = threading.Event()
        self.calls: list[tuple[float, float, str]] = []  # (start, end, "ok" | error code)
        self.acked: list[bytes] = []

    def run(self):
        while not self.stop.is_set():
            batch = [dict(r, Data=uuid.uuid4().bytes) for r in spread_records(8)]
            start = time.monotonic()
            try:
                answer = self.client.put_records(StreamName=self.stream, Records=batch)
                codes = {r.get("ErrorCode") for r in answer["Records"]} - {None}
                self.acked += [b["Data"] for b, r in zip(batch, answer["Records"]) if "SequenceNumber" in r]
                outcome = "ok" if not codes else ",".join(sorted(codes))
            except ClientError as error:
                outcome = error.response["Error"]["Code"]
            except Exception as error:  # a hang (read timeout) or a dropped connection
                outcome = f"client:{type(error).__name__}"
            self.calls.append((start, time.monotonic(), outcome))
            time.sleep(0.01)


def test_kill_9_of_a_node_behind_the_router(cluster_and_router):
    cluster, router = cluster_and_router
    client = router.client(retries={"max_attempts": 0}, read_timeout=10, connect_timeout=2)
    create_stream(client, "failover")
    writer = Writer(client, "failover")
    writer.start()
    wait_for(lambda: sum(1 for c in writer.calls if c[2] == "ok") >= 20, 20, "writes flowing")
    victim = cluster.node(cluster.leader_of("failover", "shardId-000000000000"))
    killed = time.monotonic()
    victim.kill()
    observers = [router] + [n for n in cluster.nodes if n is not victim]
    dead_after = {}
    for member in observers:
        wait_for(lambda: member_states(member).get(victim.node_id) == "dead", 10, f"{member.node_id} marks the victim dead")
        dead_after[member.node_id] = time.monotonic() - killed
    # Writes to every shard work again once no call that started later than this failed.
    wait_for(lambda: sum(1 for c in writer.calls if c[0] > killed + 3 and c[2] == "ok") >= 10, 15, "writes after the kill")
    failed_after = [c[0] - killed for c in writer.calls if c[0] > killed and c[2] != "ok"]
    recovered = max(failed_after, default=0.0)
    victim.start()
    restarted = time.monotonic()
    cluster.wait_ready(nodes=[victim])
    for member in observers:
        wait_for(lambda: member_states(member).get(victim.node_id) == "alive", 10, f"{member.node_id} sees it alive")
    alive_again = time.monotonic() - restarted
    writer.stop.set()
    writer.join(15)
    errors = [c[2] for c in writer.calls if c[2] != "ok"]
    print(f"dead in every view after {max(dead_after.values()):.2f}s ({dead_after}); last failed write started "
          f"{recovered:.2f}s after the kill; alive again {alive_again:.2f}s after restart; "
          f"{len(writer.calls)} calls, errors {sorted(set(errors))}")
    assert max(dead_after.values()) < 5.0, dead_after
    assert recovered < 3.0, recovered
    assert alive_again < 20.0  # includes the node's own start; gossip itself takes well under a second
    assert all(code in RETRIABLE for e in errors for code in e.split(",")), errors
    longest = max(end - start for start, end, _ in writer.calls)
    assert longest < 10.0, f"a call took {longest:.1f}s"
    # Nothing acknowledged was lost.
    stored = set(read_all(router.client(), "failover"))
    assert set(writer.acked) <= stored


def test_a_call_waiting_on_a_paused_leader_is_answered_once_its_successor_is_gossiped(cluster_and_router):
    """A PutRecord the router sends to a shard leader that was just SIGSTOPped is answered as soon as the
    router hears (by gossip: a new leader publishes its hint at once) that another node leads the shard in a
    newer term: InternalFailure, its outcome unknown, not after the 5 s call timeout. The router then forgets
    the paused leader, so the retry is acknowledged by the new one. The paused node also led the metadata group
    at times, so the router's route refresh is watched the same way."""
    cluster, router = cluster_and_router
    client = router.client(retries={"total_max_attempts": 1}, read_timeout=30)
    create_stream(client, "paused", shards=1)
    for trial in range(2):
        for _ in range(5):
            client.put_record(StreamName="paused", Data=b"before", PartitionKey="k")
        victim = cluster.node(cluster.leader_of("paused", "shardId-000000000000"))
        victim.pause()
        try:
            started = time.monotonic()
            with pytest.raises(ClientError) as failed:
                client.put_record(StreamName="paused", Data=b"during", PartitionKey="k")
            waited = time.monotonic() - started
            assert failed.value.response["Error"]["Code"] in RETRIABLE
            assert waited < 4.0, f"trial {trial}: answered after {waited:.1f} s: the call waited out its timeout"
            acked, deadline = None, time.monotonic() + 15
            while acked is None and time.monotonic() < deadline:
                try:
                    acked = client.put_record(StreamName="paused", Data=b"after", PartitionKey="k")
                except ClientError:
                    time.sleep(0.05)
            assert acked is not None, "no write was acknowledged after the new election"
            print(f"trial {trial}: answered after {waited:.2f} s, retry acknowledged "
                  f"{time.monotonic() - started:.2f} s after the pause")
            assert acked["ShardId"] == "shardId-000000000000"
        finally:
            victim.resume()


def test_paused_node_is_suspected_alone_and_comes_back(cluster_and_router):
    cluster, router = cluster_and_router
    victim = cluster.node(3)
    observers = [router, cluster.node(1), cluster.node(2)]
    for member in observers:
        wait_for(lambda: member_states(member).get(victim.node_id) == "alive", 5, "all alive first")
    seen = {member.node_id: set() for member in observers}
    others_suspected = []
    victim.pause()
    paused = time.monotonic()
    try:
        while time.monotonic() - paused < 10:
            for member in observers:
                try:
                    states = member_states(member)
                except (urllib.error.URLError, OSError):
                    continue
                seen[member.node_id].add(states.get(victim.node_id))
                others_suspected += [(member.node_id, m, s) for m, s in states.items()
                                     if m != victim.node_id and s != "alive"]
            time.sleep(0.1)
    finally:
        victim.resume()
    resumed = time.monotonic()
    for member in observers:
        wait_for(lambda: member_states(member).get(victim.node_id) == "alive", 10, f"{member.node_id} sees it back")
    back_after = time.monotonic() - resumed
    print(f"states of the paused node seen: {seen}; back in every view {back_after:.2f}s after SIGCONT")
    assert all("suspect" in states or "dead" in states for states in seen.values()), seen
    assert not others_suspected, others_suspected


def test_router_with_credentials_checks_signatures(cluster_and_router, rill_bin, tmp_path):
    """What a router sends on carries no signature, so a router given keys must check them itself."""
    cluster, _ = cluster_and_router
    keys = tmp_path / "keys"
    keys.write_text("AKIDEXAMPLE:secret\n")
    guarded = ClusterRouter(rill_bin, tmp_path / "guarded", cluster.nodes[0].join,
                            extra=["--credentials-file", str(keys)])
    guarded.node_id = 1001
    guarded.start()
    try:
        guarded.wait_ready()
        good = guarded.client()
        good.create_stream(StreamName="signed", ShardCount=1)
        import boto3
        from botocore.config import Config
        bad = boto3.client("kinesis", endpoint_url=guarded.endpoint, region_name="us-east-1",
                           aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="wrong",
                           config=Config(retries={"max_attempts": 1}))
        with pytest.raises(ClientError) as refused:
            bad.list_streams()
        assert refused.value.response["Error"]["Code"] == "InvalidSignatureException"
        assert "signed" in good.list_streams()["StreamNames"]
    finally:
        guarded.stop()


def test_subscribe_to_shard_is_relayed_to_a_node(cluster_and_router):
    """Enhanced fan-out through the router: the call goes on to a node holding the shard, events come back."""
    cluster, router = cluster_and_router
    client = router.client()
    create_stream(client, "fanout", shards=1)
    arn = client.describe_stream_summary(StreamName="fanout")["StreamDescriptionSummary"]["StreamARN"]
    consumer = client.register_stream_consumer(StreamARN=arn, ConsumerName="relayed")["Consumer"]["ConsumerARN"]
    wait_for(lambda: client.describe_stream_consumer(ConsumerARN=consumer)["ConsumerDescription"]["ConsumerStatus"]
             == "ACTIVE", 30, "consumer active")
    client.put_record(StreamName="fanout", PartitionKey="k", Data=b"pushed")
    response = client.subscribe_to_shard(ConsumerARN=consumer, ShardId="shardId-000000000000",
                                         StartingPosition={"Type": "TRIM_HORIZON"})
    seen = []
    deadline = time.monotonic() + 20
    for event in response["EventStream"]:
        seen += [r["Data"] for r in event["SubscribeToShardEvent"]["Records"]]
        if seen or time.monotonic() > deadline:
            break
    response["EventStream"].close()
    assert seen == [b"pushed"]
