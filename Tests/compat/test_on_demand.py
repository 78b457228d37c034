"""On-demand streams that follow their traffic (issue 20), on three real nodes and a router.

The nodes run with short windows (`--on-demand-split-after 2 --on-demand-merge-after 10 --on-demand-cooldown 2`)
so a test does not wait the default 15 s of heat or 15 min of cold; the decisions themselves are the
production ones. The cold window stays longer than a reshard's pause in writes: while a round of splits is
carried out, the new shards' groups elect leaders and the writers' calls wait, so every shard of the stream
writes nothing for a few seconds on this machine, and a shorter cold window would merge them under load. They enforce Kinesis's per-shard limits (`--throughput-limits`, as `rill up` does), so a shard
driven past 1,000 records/s is throttled until it splits, as on AWS. A writer puts records whose hash keys all lie in a narrow band of one shard, through the
router and straight to the nodes, at about twice a shard's 1,000 records/s: the controller must split that
shard at the median of the keys written (inside the band, not the middle of the range), and once the writer
stops, merge two cold neighbours back toward the on-demand floor of four shards. Every acknowledged record
must still be readable afterwards, across the parents and children.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import queue
import subprocess
import time
import uuid
from collections import defaultdict

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from cluster import cluster_with_router
from conftest import cli_json, expect_error, make_client, run_cli, wait_active

ON_DEMAND_FLAGS = ["--on-demand-split-after", "2", "--on-demand-merge-after", "10", "--on-demand-cooldown", "2",
                   "--throughput-limits"]
MAX_HASH = 2**128 - 1


@pytest.fixture(scope="module")
def cluster_and_router(rill_bin, tmp_path_factory):
    with cluster_with_router(rill_bin, tmp_path_factory.mktemp("on-demand"), node_extra=ON_DEMAND_FLAGS) as both:
        yield both


def hash_of(key: str) -> int:
    return int.from_bytes(hashlib.md5(key.encode()).digest(), "big")


def keys_in_band(low: int, high: int, count: int) -> list[str]:
    """Partition keys whose MD5 hash key lies in [low, high]."""
    keys: list[str] = []
    n = 0
    while len(keys) < count:
        key = f"k-{n}"
        if low <= hash_of(key) <= high:
            keys.append(key)
        n += 1
        assert n < 5_000_000, "could not find enough keys in the band"
    return keys


def open_shards(client, stream: str) -> list[dict]:
    shards = client.list_shards(StreamName=stream, ShardFilter={"Type": "AT_LATEST"})["Shards"]
    return sorted(shards, key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]))


def all_shards(client, stream: str) -> list[dict]:
    return client.list_shards(StreamName=stream)["Shards"]


def read_everything(client, stream: str) -> list[bytes]:
    data: list[bytes] = []
    for shard in all_shards(client, stream):
        iterator = client.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        deadline = time.monotonic() + 30
        while iterator and time.monotonic() < deadline:
            page = client.get_records(ShardIterator=iterator, Limit=10_000)
            data += [r["Data"] for r in page["Records"]]
            if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                if "EndingSequenceNumber" not in shard["SequenceNumberRange"]:
                    break
            iterator = page.get("NextShardIterator")
    return data


def test_hot_shard_splits_where_its_load_is_then_cold_neighbours_merge(cluster_and_router, rill_bin):
    cluster, router = cluster_and_router
    client = router.client(retries={"max_attempts": 10, "mode": "standard"})
    stream = f"on-demand-{uuid.uuid4().hex[:8]}"
    client.create_stream(StreamName=stream, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    wait_active(client, stream, timeout=30)
    shards = open_shards(client, stream)
    assert len(shards) == 4
    # A band in the lower fifth of the second shard: a split in the middle of its range would miss it.
    start = int(shards[1]["HashKeyRange"]["StartingHashKey"])
    end = int(shards[1]["HashKeyRange"]["EndingHashKey"])
    low, high = start + (end - start) // 20, start + (end - start) // 5
    keys = keys_in_band(low, high, 400)

    # The controller refuses nothing to itself, but clients still may not reshard an on-demand stream.
    expect_error(lambda: client.split_shard(StreamName=stream, ShardToSplit=shards[1]["ShardId"],
                                            NewStartingHashKey=str(start + 2**100)), "ValidationException")

    entries = [router] + cluster.nodes
    writers = [member.client(retries={"max_attempts": 10, "mode": "standard"}) for member in entries]
    acknowledged: set[bytes] = set()
    split_seen = None
    deadline = time.monotonic() + 60
    n = 0
    while time.monotonic() < deadline:
        batch_started = time.monotonic()
        records = [{"Data": f"r-{n + i}".encode(), "PartitionKey": keys[(n + i) % len(keys)]} for i in range(500)]
        answer = writers[(n // 500) % len(writers)].put_records(StreamName=stream, Records=records)
        for record, result in zip(records, answer["Records"]):
            if "SequenceNumber" in result:
                acknowledged.add(record["Data"])
        n += 500
        current = open_shards(client, stream)
        if len(current) > 4:
            split_seen = current
            break
        # About 2,000 records/s: twice one shard's capacity, for as long as it takes.
        time.sleep(max(0.0, 0.25 - (time.monotonic() - batch_started)))
    assert split_seen is not None, "the hot shard did not split within 60 s"
    assert len(split_seen) == 5
    children = [s for s in split_seen if s.get("ParentShardId") == shards[1]["ShardId"]]
    assert len(children) == 2, split_seen
    boundary = int(max(children, key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]))
                   ["HashKeyRange"]["StartingHashKey"])
    assert low <= boundary <= high, f"split at {boundary}, not where the load was ({low}..{high})"

    # The metadata leader reports the decision, with its figures; `rill status` prints it.
    decisions = []
    for node in cluster.nodes:
        decisions += node.status().get("onDemandDecisions", [])
    split = [d for d in decisions if d["decision"] == "split" and d["stream"] == stream]
    assert split and split[0]["shards"] == [shards[1]["ShardId"]] and split[0]["utilizationPercent"] >= 75, decisions
    status = subprocess.run([str(rill_bin), "status", "--endpoint", cluster.nodes[0].endpoint],
                            capture_output=True, text=True, timeout=30)
    assert status.returncode == 0, status.stderr
    assert "on-demand scaling" in status.stdout and stream in status.stdout, status.stdout

    # Writes stop: after the merge window, two cold neighbours merge, back to the floor of four.
    deadline = time.monotonic() + 60
    merged = None
    while time.monotonic() < deadline:
        current = open_shards(client, stream)
        if len(current) == 4:
            merged = current
            break
        time.sleep(0.2)
    assert merged is not None, "cold neighbours did not merge within 60 s"
    wait_active(client, stream, timeout=30)
    assert len(open_shards(client, stream)) == 4, "never below the on-demand floor of four shards"

    # Nothing acknowledged was lost across the split and the merge.
    stored = read_everything(client, stream)
    missing = acknowledged - set(stored)
    assert not missing, f"{len(missing)} acknowledged records missing, e.g. {sorted(missing)[:3]}"
    assert len(stored) == len(set(stored)), "a record was stored twice"
    client.delete_stream(StreamName=stream)


def test_provisioned_streams_never_scale(cluster_and_router):
    cluster, router = cluster_and_router
    client = router.client()
    stream = f"provisioned-{uuid.uuid4().hex[:8]}"
    client.create_stream(StreamName=stream, ShardCount=1)
    wait_active(client, stream, timeout=30)
    deadline = time.monotonic() + 8
    n = 0
    while time.monotonic() < deadline:
        client.put_records(StreamName=stream,
                           Records=[{"Data": b"x", "PartitionKey": f"p-{n + i}"} for i in range(500)])
        n += 500
        time.sleep(0.2)
    assert len(open_shards(client, stream)) == 1
    client.delete_stream(StreamName=stream)


def test_warm_throughput_scales_the_stream_up_to_it(cluster_and_router):
    cluster, router = cluster_and_router
    client = router.client()
    stream = f"warm-{uuid.uuid4().hex[:8]}"
    client.create_stream(StreamName=stream, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    wait_active(client, stream, timeout=30)
    arn = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    answer = client.update_stream_warm_throughput(StreamARN=arn, WarmThroughputMiBps=6)
    assert answer["WarmThroughput"]["TargetMiBps"] == 6
    assert answer["WarmThroughput"]["CurrentMiBps"] <= 6
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(open_shards(client, stream)) < 6:
        time.sleep(0.2)
    assert len(open_shards(client, stream)) == 6, "the stream did not scale up to its warm throughput"
    wait_active(client, stream, timeout=30)
    summary = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
    assert summary["WarmThroughput"] == {"TargetMiBps": 6, "CurrentMiBps": 6}
    # Warm throughput is for on-demand streams only, at creation too.
    expect_error(lambda: client.create_stream(StreamName=f"p-{uuid.uuid4().hex[:8]}", ShardCount=1,
                                              WarmThroughputMiBps=5), "InvalidArgumentException")
    client.delete_stream(StreamName=stream)


# --- Three times the starting capacity (issue 20's first "done when") ---------------------------------------------

TARGET_RATE = 12_000  # records/s: three times four shards' 1,000 records/s
WRITERS = 6  # processes, each with its own connection and its own partition keys
KEYS_PER_WRITER = 1_000
BATCH = 500
# "Throttling stops": every one of the last THROTTLE_QUIET_SECONDS seconds refuses under 1 % of what was offered.
# Before the stream scales, two records in three are refused; a shard ends well under its limit once the stream
# has 16 (12,000 / 16 = 750 records/s each), but the hash keys of 6,000 partition keys do not spread perfectly
# and a 500-record batch lands on a shard in bursts, so a shard can touch its one-second allowance now and then.
# 1 % allows that jitter (about 120 records/s at 12,000 offered) and nothing like sustained throttling.
THROTTLE_QUIET_FRACTION = 0.01
THROTTLE_QUIET_SECONDS = 3


def write_keys_in_order(endpoint: str, stream: str, writer: int, rate: float, stop, reports, results) -> None:
    """One writer process: PutRecords of 500 records, each to a different partition key of this writer's own, at
    `rate` records/s (or as fast as it can). A key's record n is only sent once its record n - 1 was
    acknowledged, and a refused record is sent again (the same n) the next time its key comes round, so each
    key's records are acknowledged, and must be stored, in the order 0, 1, 2... Each call's second, records
    offered and records throttled go to `reports`; each key's acknowledged count to `results` at the end."""
    client = make_client(endpoint, read_timeout=30)
    keys = [f"w{writer}-k{i}" for i in range(KEYS_PER_WRITER)]
    acked = [0] * len(keys)
    failed_calls = 0
    # Keys one of whose records failed in a way that does not say it was not stored (a call failed whole, a
    # per-record InternalFailure): sending it again may store it twice, right after itself. Throttling does say.
    uncertain: set[str] = set()
    other_errors: dict[str, int] = defaultdict(int)
    cursor = 0
    interval = BATCH / rate
    next_call = time.monotonic()
    while not stop.is_set():
        indices = [(cursor + i) % len(keys) for i in range(BATCH)]
        cursor = (cursor + BATCH) % len(keys)
        records = [{"Data": str(acked[i]).encode(), "PartitionKey": keys[i]} for i in indices]
        try:
            answer = client.put_records(StreamName=stream, Records=records)
        except (BotoCoreError, ClientError) as error:
            # The whole call failed: its records may or may not be stored; each is sent again with the same n.
            failed_calls += 1
            other_errors[type(error).__name__] += 1
            uncertain.update(keys[i] for i in indices)
            reports.put((time.monotonic(), BATCH, 0, BATCH))
            continue
        throttled = failed = 0
        for i, result in zip(indices, answer["Records"]):
            if "SequenceNumber" in result:
                acked[i] += 1
            elif result.get("ErrorCode") == "ProvisionedThroughputExceededException":
                throttled += 1
            else:
                # A retryable per-record failure (InternalFailure while a shard is resharded): sent again, in
                # order, like a throttled one; counted and printed.
                failed += 1
                uncertain.add(keys[i])
                other_errors[f"{result.get('ErrorCode')}: {result.get('ErrorMessage', '')[:100]}"] += 1
        reports.put((time.monotonic(), BATCH, throttled, failed))
        next_call += interval
        ahead = next_call - time.monotonic()
        if ahead > 0:
            stop.wait(ahead)  # pacing the offered load, not waiting for a condition
        else:
            next_call = time.monotonic()  # behind: as fast as the machine allows, no catch-up burst
    results.put((writer, keys, acked, failed_calls, dict(other_errors), uncertain))


def lineage_order(shards: list[dict]) -> list[dict]:
    """Every shard after its parents (ParentShardId, AdjacentParentShardId)."""
    by_id = {s["ShardId"]: s for s in shards}
    ordered: list[dict] = []
    placed: set[str] = set()

    def place(shard: dict) -> None:
        if shard["ShardId"] in placed:
            return
        for parent in (shard.get("ParentShardId"), shard.get("AdjacentParentShardId")):
            if parent in by_id:
                place(by_id[parent])
        placed.add(shard["ShardId"])
        ordered.append(shard)

    for shard in sorted(shards, key=lambda s: int(s["ShardId"].split("-")[1])):
        place(shard)
    return ordered


def read_shard_to_end(client, stream: str, shard: dict, timeout: float = 60) -> list[dict]:
    """A shard's records from TRIM_HORIZON: to the end of a closed shard (no NextShardIterator), to the tip of an
    open one."""
    iterator = client.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                         ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    closed = "EndingSequenceNumber" in shard["SequenceNumberRange"]
    records: list[dict] = []
    deadline = time.monotonic() + timeout
    while iterator:
        assert time.monotonic() < deadline, f"reading {shard['ShardId']} did not finish in {timeout}s"
        page = client.get_records(ShardIterator=iterator, Limit=10_000)
        records += page["Records"]
        if not closed and not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
            break
        iterator = page.get("NextShardIterator")
    return records


def open_shard_count_by_cli(endpoint: str, stream: str) -> dict:
    summary = cli_json(run_cli(endpoint, "describe-stream-summary", "--stream-name", stream))
    return summary["StreamDescriptionSummary"]


def test_three_times_capacity_scales_out_stops_throttling_keeps_key_order_and_merges_back(cluster_and_router):
    cluster, router = cluster_and_router
    client = router.client(retries={"max_attempts": 10, "mode": "standard"})
    stream = f"tutorial-{uuid.uuid4().hex[:8]}"
    # The tutorial's command, as it reads.
    cli_json(run_cli(router.endpoint, "create-stream", "--stream-name", stream,
                     "--stream-mode-details", "StreamMode=ON_DEMAND"))
    wait_active(client, stream, timeout=30)
    summary = open_shard_count_by_cli(router.endpoint, stream)
    assert summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert summary["OpenShardCount"] == 4
    started_with = len(open_shards(client, stream))
    assert started_with == 4

    context = multiprocessing.get_context("fork")
    stop, reports, results = context.Event(), context.Queue(), context.Queue()
    writers = [context.Process(target=write_keys_in_order,
                               args=(router.endpoint, stream, w, TARGET_RATE / WRITERS, stop, reports, results),
                               daemon=True) for w in range(WRITERS)]
    start = time.monotonic()
    for process in writers:
        process.start()
    offered: dict[int, int] = defaultdict(int)
    throttled: dict[int, int] = defaultdict(int)
    failed: dict[int, int] = defaultdict(int)
    shard_counts: dict[int, int] = {}
    scaled_at = quiet_at = None
    scaled_summary = None
    next_look = start
    try:
        while time.monotonic() - start < 60:
            try:
                at, sent, refused, broken = reports.get(timeout=0.2)
                second = int(at - start)
                offered[second] += sent
                throttled[second] += refused
                failed[second] += broken
            except queue.Empty:
                pass
            now = time.monotonic()
            if now < next_look:
                continue
            next_look = now + 0.5
            count = len(open_shards(client, stream))
            shard_counts[int(now - start)] = count
            if scaled_at is None and count >= 3 * started_with:
                scaled_at = now - start
                # describe-stream-summary, from the aws CLI, while the stream is scaled out and under load.
                scaled_summary = open_shard_count_by_cli(router.endpoint, stream)
            if scaled_at is not None:
                current = int(now - start)
                last = [s for s in range(current - THROTTLE_QUIET_SECONDS, current) if s > scaled_at]
                if len(last) == THROTTLE_QUIET_SECONDS and all(
                        offered[s] > 0 and throttled[s] / offered[s] < THROTTLE_QUIET_FRACTION for s in last):
                    quiet_at = now - start
                    break
    finally:
        stop.set()
        outcomes = [results.get(timeout=60) for _ in writers]
        load_seconds = time.monotonic() - start
        while True:  # the reports of the last calls, drained before the writers are joined
            try:
                at, sent, refused, broken = reports.get(timeout=0.5)
            except queue.Empty:
                break
            offered[int(at - start)] += sent
            throttled[int(at - start)] += refused
            failed[int(at - start)] += broken
        for process in writers:
            process.join(timeout=30)

    print(f"\nsecond  offered/s  throttled  other failures  open shards")
    for second in range(int(load_seconds) + 1):
        fraction = throttled[second] / offered[second] if offered[second] else 0
        print(f"{second:6}  {offered[second]:9}  {fraction:8.1%}  {failed[second]:14}  {shard_counts.get(second, '')}")
    full = range(1, int(load_seconds))
    achieved = sum(offered[s] for s in full) / max(1, len(full))
    # Seconds in which no call returned are reshards' pauses (the writers wait for the new shards' leaders).
    flowing = [offered[s] for s in full if offered[s] > 0]
    print(f"offered {achieved:.0f} records/s on average over {len(full)} full seconds, "
          f"{sum(flowing) / max(1, len(flowing)):.0f} over the {len(flowing)} in which calls returned "
          f"(target {TARGET_RATE}); "
          f"{started_with} -> {3 * started_with} shards at {scaled_at} s; throttling under "
          f"{THROTTLE_QUIET_FRACTION:.0%} for {THROTTLE_QUIET_SECONDS} s at {quiet_at} s")
    assert scaled_at is not None and scaled_at <= 60, f"not {3 * started_with} shards within 60 s: {shard_counts}"
    assert quiet_at is not None, "throttling did not stop within 60 s"
    assert scaled_summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert scaled_summary["OpenShardCount"] >= 3 * started_with, scaled_summary
    errors: dict[str, int] = defaultdict(int)
    for outcome in outcomes:
        for error, count in outcome[4].items():
            errors[error] += count
    print(f"records refused for other reasons than throttling (sent again in order): {dict(errors) or 'none'}; "
          f"calls failed whole: {sum(outcome[3] for outcome in outcomes)}")

    # With the load gone, cold neighbours merge back toward the floor of four.
    merge_start = time.monotonic()
    deadline = merge_start + 60
    while time.monotonic() < deadline and len(open_shards(client, stream)) > 4:
        time.sleep(0.2)
    merged_in = time.monotonic() - merge_start
    print(f"merged back to {len(open_shards(client, stream))} shards in {merged_in:.1f} s")
    assert len(open_shards(client, stream)) == 4, "the stream did not merge back to four shards within 60 s"
    wait_active(client, stream, timeout=30)
    summary = open_shard_count_by_cli(router.endpoint, stream)
    assert summary["OpenShardCount"] == 4 and summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}

    # Every acknowledged record reads back, each key's in the order it was acknowledged, parents before children.
    read_start = time.monotonic()
    stored: dict[str, list[int]] = defaultdict(list)
    lineage = lineage_order(all_shards(client, stream))
    for shard in lineage:
        for record in read_shard_to_end(client, stream, shard):
            stored[record["PartitionKey"]].append(int(record["Data"]))
    acknowledged = repeated = 0
    for writer, keys, acked, failed_calls, errors, uncertain in outcomes:
        for key, count in zip(keys, acked):
            acknowledged += count
            seen = stored.get(key, [])
            # A record whose failure did not say it was not stored may be stored and then stored again right
            # after itself, and the last one may be stored without an acknowledgement.
            collapsed = [n for i, n in enumerate(seen) if i == 0 or n != seen[i - 1]]
            assert collapsed[:count] == list(range(count)), (
                f"key {key}: acknowledged 0..{count - 1}, read {seen[:20]}... across "
                f"{[s['ShardId'] for s in lineage]}")
            if key not in uncertain:
                assert seen == list(range(count)), f"key {key}: acknowledged 0..{count - 1}, read {seen[:20]}..."
            assert len(collapsed) <= count + 1, (key, count, seen[:20])
            repeated += len(seen) - count
    print(f"read back {sum(map(len, stored.values()))} records ({acknowledged} acknowledged, {repeated} stored "
          f"again or unacknowledged after an InternalFailure) across "
          f"{len(lineage)} shards in {time.monotonic() - read_start:.1f} s")
    client.delete_stream(StreamName=stream)


# --- One hot partition key -----------------------------------------------------------------------------------------

def test_a_single_hot_key_is_throttled_and_not_split_forever(cluster_and_router):
    cluster, router = cluster_and_router
    client = router.client(retries={"max_attempts": 10, "mode": "standard"})
    stream = f"hot-key-{uuid.uuid4().hex[:8]}"
    client.create_stream(StreamName=stream, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    wait_active(client, stream, timeout=30)
    shards = open_shards(client, stream)
    # A key in the middle third of shard 2's range, so a split at it is possible (not its first keys).
    start, end = (int(shards[2]["HashKeyRange"][k]) for k in ("StartingHashKey", "EndingHashKey"))
    key = keys_in_band(start + (end - start) // 3, start + 2 * (end - start) // 3, 1)[0]

    # About 3,000 records/s of one key, three times what its shard admits, for 20 s: the controller sees the
    # shard hot (at its limit) for ten 2 s rounds, far past --on-demand-split-after 2 and its cool-down.
    writer = router.client(read_timeout=30)
    offered: dict[int, int] = defaultdict(int)
    throttled: dict[int, int] = defaultdict(int)
    counts: list[tuple[float, int]] = []
    begin = time.monotonic()
    next_call = begin
    while time.monotonic() - begin < 20:
        answer = writer.put_records(StreamName=stream, Records=[{"Data": b"h", "PartitionKey": key}] * BATCH)
        second = int(time.monotonic() - begin)
        offered[second] += BATCH
        throttled[second] += sum(1 for r in answer["Records"]
                                 if r.get("ErrorCode") == "ProvisionedThroughputExceededException")
        counts.append((time.monotonic() - begin, len(open_shards(client, stream))))
        next_call += BATCH / 3_000
        time.sleep(max(0.0, next_call - time.monotonic()))  # pacing the offered load
    print(f"\nsecond  offered/s  throttled")
    for second in sorted(offered):
        print(f"{second:6}  {offered[second]:9}  {throttled[second] / offered[second]:8.1%}")
    print("open shards over time:", [(round(t, 1), n) for t, n in counts if n != 4][:10] or "always 4")

    # One split at most: the controller splits a hot shard at the median hash key written, which for one key
    # is the key's own hash, so the key starts the upper child; that child's median is its first key, where
    # no split can spread the load, and it is never split again.
    # (The cold lower child may then merge with its cold neighbour, back to four: the count may fall, not grow.)
    assert max(n for _, n in counts) <= 5, counts
    late = [n for t, n in counts if t >= 10]
    assert all(b <= a for a, b in zip(late, late[1:])), f"the shard count still grew in the last 10 s: {counts}"
    decisions = [d for node in cluster.nodes for d in node.status().get("onDemandDecisions", [])
                 if d["stream"] == stream and d["decision"] == "split"]
    assert len(decisions) <= 1, decisions
    if decisions:
        holder = [s for s in open_shards(client, stream)
                  if int(s["HashKeyRange"]["StartingHashKey"]) <= hash_of(key) <= int(s["HashKeyRange"]["EndingHashKey"])]
        assert int(holder[0]["HashKeyRange"]["StartingHashKey"]) == hash_of(key), holder
    # And the key stays throttled at its shard's limit: a split cannot help it.
    last = sorted(offered)[-6:-1]
    sent, refused = sum(offered[s] for s in last), sum(throttled[s] for s in last)
    assert refused > 0.2 * sent and (sent - refused) / len(last) <= 1_100, (sent, refused, len(last))
    client.delete_stream(StreamName=stream)
