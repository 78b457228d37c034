"""Per-shard throughput limits held on the shard's leader (docs/architecture.md, "Throughput limits"): boto3
against three `rill node --throughput-limits` behind a router, as `rill up` starts them."""
from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from cluster import cluster_with_router
from conftest import ACCOUNT, create_stream

LIMIT = 1000  # records per second per shard
THROTTLED = "ProvisionedThroughputExceededException"


@pytest.fixture(scope="module")
def limited(rill_bin, tmp_path_factory):
    with cluster_with_router(rill_bin, tmp_path_factory.mktemp("limits"), node_extra=["--throughput-limits"]) as both:
        yield both


def rate_message(stream: str, shard: str = "shardId-000000000000") -> str:
    return f"Rate exceeded for shard {shard} in stream {stream} under account {ACCOUNT}."


class Producer:
    """Offers `per_call` records every `interval` seconds (twice the record limit by default) to one shard and
    keeps each call's outcome: when it was sent and answered, how many records were written and throttled."""

    def __init__(self, client, stream: str, per_call: int = 100, interval: float = 0.05):
        self.client, self.stream, self.per_call, self.interval = client, stream, per_call, interval
        self.calls: list[tuple[float, float, int, int, int]] = []  # sent, answered, written, throttled, other

    def run(self, seconds: float, on_tick=None) -> None:
        start = time.monotonic()
        n = 0
        records = [{"Data": b"x" * 100, "PartitionKey": "one-key"} for _ in range(self.per_call)]
        while time.monotonic() - start < seconds:
            due = start + n * self.interval
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)  # an open-loop schedule: the offered rate, not a wait for a condition
            n += 1
            sent = time.monotonic()
            try:
                answer = self.client.put_records(StreamName=self.stream, Records=records)
            except ClientError as error:
                self.calls.append((sent, time.monotonic(), 0, 0, len(records)))
                assert error.response["Error"]["Code"] != "ValidationException", error
                continue
            written = throttled = other = 0
            for entry in answer["Records"]:
                if "SequenceNumber" in entry:
                    written += 1
                elif entry["ErrorCode"] == THROTTLED:
                    assert entry["ErrorMessage"] == rate_message(self.stream), entry
                    throttled += 1
                else:
                    other += 1
            self.calls.append((sent, time.monotonic(), written, throttled, other))
            if on_tick:
                on_tick(self)

    def written_between(self, start: float, end: float) -> int:
        """Records written by calls answered in [start, end)."""
        return sum(w for _, answered, w, _, _ in self.calls if start <= answered < end)


def test_a_producer_at_twice_the_limit_is_held_to_it(limited):
    _, router = limited
    client = router.client()
    create_stream(client, "held", shards=1)
    producer = Producer(client, "held")
    producer.run(7.0)
    start = producer.calls[0][0]
    offered = sum(w + t + o for _, _, w, t, o in producer.calls) / (producer.calls[-1][1] - start)
    # The first second may spend the bucket's full second besides its refill; after it, the refill alone.
    steady = producer.written_between(start + 1.0, start + 6.0) / 5.0
    throttled = sum(t for _, _, _, t, _ in producer.calls)
    print(f"\noffered {offered:.0f} records/s to one shard; admitted {steady:.0f} records/s from 1 s to 6 s; "
          f"{throttled} records refused with {THROTTLED}")
    assert offered > 1.6 * LIMIT, "the producer could not offer well over the limit on this machine"
    assert throttled > 0
    assert abs(steady - LIMIT) <= 0.1 * LIMIT, steady


def test_get_records_over_five_a_second_is_throttled(limited):
    _, router = limited
    # One attempt per call: botocore's legacy `max_attempts` counts retries, so the suite's default client
    # retries a throttled call once after a back-off of up to a second, and in a CI run every call got through.
    client = router.client(retries={"total_max_attempts": 1})
    create_stream(client, "polled", shards=1)
    client.put_record(StreamName="polled", PartitionKey="k", Data=b"r")
    iterator = client.get_shard_iterator(StreamName="polled", ShardId="shardId-000000000000",
                                         ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    served, refused = 0, []
    started = time.monotonic()
    for _ in range(40):
        try:
            iterator = client.get_records(ShardIterator=iterator)["NextShardIterator"]
            served += 1
        except ClientError as error:
            refused.append(error.response["Error"])
    elapsed = time.monotonic() - started
    print(f"\n40 GetRecords in {elapsed:.2f} s: {served} served, {len(refused)} throttled")
    assert refused and all(e["Code"] == THROTTLED and e["Message"] == rate_message("polled") for e in refused)
    # Five a second, and the bucket's one second to start with.
    assert served <= 5 + 5 * elapsed + 1


def test_an_enhanced_fan_out_reader_of_a_backlog_is_paced_to_2_mib_a_second(limited):
    _, router = limited
    client = router.client()
    create_stream(client, "backlog", shards=1)
    record = b"b" * 50_000
    pending = 160  # 8 MB, written within the shard's 1 MiB/s
    deadline = time.monotonic() + 60
    while pending and time.monotonic() < deadline:
        answer = client.put_records(StreamName="backlog",
                                    Records=[{"Data": record, "PartitionKey": str(i)} for i in range(min(20, pending))])
        pending -= sum(1 for r in answer["Records"] if "SequenceNumber" in r)
        if answer["FailedRecordCount"]:
            time.sleep(0.2)  # throttled: the bucket refills at 1 MiB/s
    assert pending == 0, "the backlog could not be written"
    arn = client.describe_stream_summary(StreamName="backlog")["StreamDescriptionSummary"]["StreamARN"]
    consumer = client.register_stream_consumer(StreamARN=arn, ConsumerName="paced")["Consumer"]["ConsumerARN"]
    deadline = time.monotonic() + 30
    while client.describe_stream_consumer(ConsumerARN=consumer)["ConsumerDescription"]["ConsumerStatus"] != "ACTIVE":
        assert time.monotonic() < deadline, "consumer not active"
        time.sleep(0.05)
    response = client.subscribe_to_shard(ConsumerARN=consumer, ShardId="shardId-000000000000",
                                         StartingPosition={"Type": "TRIM_HORIZON"})
    events: list[tuple[float, int]] = []
    received = 0
    deadline = time.monotonic() + 30
    for event in response["EventStream"]:
        size = sum(len(r["Data"]) + len(r["PartitionKey"]) for r in event["SubscribeToShardEvent"]["Records"])
        if size:
            events.append((time.monotonic(), size))
        received += len(event["SubscribeToShardEvent"]["Records"])
        if received >= 160 or time.monotonic() > deadline:
            break
    response["EventStream"].close()
    assert received == 160
    total = sum(size for _, size in events)
    # The first event may carry the second's allowance a new subscription starts with; the rest is paced. The
    # rate is taken from the second event's arrival on (the first, 2 MiB, arrives late by its own transfer).
    rate = sum(size for _, size in events[2:]) / (events[-1][0] - events[1][0])
    print(f"\n{total} bytes in {len(events)} events; first {events[0][1]} bytes, then {rate / (1 << 20):.2f} MiB/s")
    assert events[0][1] <= (2 << 20) + len(record) + 10
    assert abs(rate - (2 << 20)) <= 0.1 * (2 << 20), rate


def test_the_write_limit_holds_across_a_kill_9_of_the_leader(rill_bin, tmp_path):
    with cluster_with_router(rill_bin, tmp_path, node_extra=["--throughput-limits"]) as (cluster, router):
        client = router.client(read_timeout=30)
        create_stream(client, "failover", shards=1)
        victim = cluster.leader_of("failover", "shardId-000000000000")
        killed: list[float] = []

        def kill_after_three_seconds(producer: Producer) -> None:
            if not killed and producer.calls[-1][1] - producer.calls[0][0] >= 3.0:
                cluster.node(victim).kill()
                killed.append(time.monotonic())

        producer = Producer(client, "failover")
        producer.run(12.0, on_tick=kill_after_three_seconds)
        assert killed
        # The first call sent after the kill that the new leader answered (written or throttled records).
        answered = [c for c in producer.calls if c[0] > killed[0] and (c[2] or c[3])]
        assert answered, "writes did not resume after the kill"
        resumed = answered[0][1]
        first_second = producer.written_between(resumed, resumed + 1.0)
        before = producer.written_between(killed[0] - 2.0, killed[0] - 1.0)
        print(f"\nkill -9 of node {victim}: the new leader answered {resumed - killed[0]:.2f} s later and admitted "
              f"{first_second} records in its first second (the old leader {before} in a second before the kill)")
        assert abs(first_second - LIMIT) <= 0.1 * LIMIT, first_second
        # Bring the victim back, so the placement check at the end sees three live replicas.
        cluster.node(victim).start()
        cluster.wait_ready()
