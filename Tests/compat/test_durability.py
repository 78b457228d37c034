"""Crash safety (issue 2, "Done when"): kill -9 right after N acknowledged
PutRecord/PutRecords calls, restart on the same data dir, read every shard from
TRIM_HORIZON: all N records, in order, none lost, none duplicated, sequence
numbers unchanged. Repeated for a few kill/restart cycles. Also: SIGTERM is a
clean exit and state survives a normal restart."""

import os
import threading
import time

from botocore.exceptions import ClientError

from conftest import (
    create_stream,
    read_shard,
    shard_id,
    stream_arn,
    assert_seq_shape,
    unique_name,
)

THROTTLED = "ProvisionedThroughputExceededException"


class Ledger:
    """Every acknowledged record: (stream, shard) -> [(seq, data, pk)] plus per-writer order."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_shard: dict[tuple[str, str], list[tuple[str, bytes, str]]] = {}
        self.by_writer: dict[str, list[tuple[str, str, str]]] = {}

    def ack(self, writer, stream, sid, seq, data, pk):
        with self.lock:
            self.by_shard.setdefault((stream, sid), []).append((seq, data, pk))
            self.by_writer.setdefault(writer, []).append((stream, sid, seq))

    def total(self):
        return sum(len(v) for v in self.by_shard.values())

    def expected(self, stream, sid):
        return sorted(self.by_shard.get((stream, sid), []), key=lambda r: int(r[0]))


def _writer(client, stream, writer, n_single, n_batches, batch_size, ledger, deadline, errors):
    """Interleaves PutRecord and PutRecords calls; only acknowledged records enter the ledger.
    Throttled records were not written and are retried until acknowledged."""
    try:
        items = [(f"{writer}-{i:05d}".encode() + os.urandom(6), f"{writer}/{i % 37}")
                 for i in range(n_single + n_batches * batch_size)]
        singles, rest = items[:n_single], items[n_single:]
        batches = [rest[i:i + batch_size] for i in range(0, len(rest), batch_size)]
        every = max(1, n_single // (len(batches) + 1))
        ops = []
        for i, item in enumerate(singles):
            ops.append(("single", item))
            if (i + 1) % every == 0 and batches:
                ops.append(("batch", batches.pop(0)))
        ops += [("batch", b) for b in batches]

        for kind, payload in ops:
            if kind == "single":
                d, k = payload
                while True:
                    assert time.monotonic() < deadline, f"writer {writer} ran out of time"
                    try:
                        r = client.put_record(StreamName=stream, Data=d, PartitionKey=k)
                    except ClientError as e:
                        if e.response["Error"]["Code"] != THROTTLED:
                            raise
                        time.sleep(0.02)
                        continue
                    ledger.ack(writer, stream, r["ShardId"], r["SequenceNumber"], d, k)
                    break
            else:
                remaining = payload
                while remaining:
                    assert time.monotonic() < deadline, f"writer {writer} ran out of time"
                    resp = client.put_records(StreamName=stream,
                                              Records=[{"Data": d, "PartitionKey": k} for d, k in remaining])
                    assert len(resp["Records"]) == len(remaining)
                    failed = []
                    for (d, k), r in zip(remaining, resp["Records"]):
                        if "ErrorCode" in r:
                            assert r["ErrorCode"] == THROTTLED, r
                            failed.append((d, k))
                        else:
                            ledger.ack(writer, stream, r["ShardId"], r["SequenceNumber"], d, k)
                    assert resp["FailedRecordCount"] == len(failed)
                    remaining = failed
                    if failed:
                        time.sleep(0.02)
    except BaseException as e:  # reported by the main thread
        errors.append((writer, e))


def write_concurrently(server, streams, per_writer_single, per_writer_batches, batch_size, ledger, tag, timeout=90):
    deadline = time.monotonic() + timeout
    errors = []
    threads = []
    for si, stream in enumerate(streams):
        for w in range(2):
            t = threading.Thread(
                target=_writer,
                args=(server.client(), stream, f"{tag}-s{si}-w{w}", per_writer_single, per_writer_batches, batch_size,
                      ledger, deadline, errors),
            )
            threads.append(t)
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()) + 5)
    assert not any(t.is_alive() for t in threads), "writers did not finish in time"
    assert not errors, errors


def verify(server, ledger, streams, shard_counts):
    client = server.client()
    for stream, n in zip(streams, shard_counts):
        d = client.describe_stream(StreamName=stream)["StreamDescription"]
        assert d["StreamStatus"] == "ACTIVE"
        assert [s["ShardId"] for s in d["Shards"]] == [shard_id(i) for i in range(n)]
        for i in range(n):
            sid = shard_id(i)
            got = read_shard(client, stream, sid, timeout=60)
            got_t = [(r["SequenceNumber"], r["Data"], r["PartitionKey"]) for r in got]
            exp = ledger.expected(stream, sid)
            got_seqs = [int(s) for s, _, _ in got_t]
            assert len(got_seqs) == len(set(got_seqs)), f"{stream}/{sid}: duplicated records after restart"
            assert got_seqs == sorted(got_seqs), f"{stream}/{sid}: records out of order after restart"
            exp_set, got_set = set(exp), set(got_t)
            lost = exp_set - got_set
            extra = got_set - exp_set
            assert not lost, f"{stream}/{sid}: {len(lost)} acknowledged records lost, e.g. {sorted(lost)[:3]}"
            assert not extra, f"{stream}/{sid}: {len(extra)} records never acknowledged, e.g. {sorted(extra)[:3]}"
            assert got_t == exp
    # Per writer, acknowledged numbers increase per shard in call order.
    for writer, acks in ledger.by_writer.items():
        last = {}
        for stream, sid, seq in acks:
            key = (stream, sid)
            assert key not in last or int(seq) > last[key], f"{writer}: {key} numbers not increasing"
            last[key] = int(seq)


def test_kill_9_after_acknowledged_writes_loses_nothing(server_factory):
    server = server_factory()
    server.start()
    client = server.client()
    s1 = create_stream(client, unique_name("dur"), shards=4)
    arn = stream_arn(s1)
    created = client.describe_stream_summary(StreamName=s1)["StreamDescriptionSummary"]["StreamCreationTimestamp"]
    ledger = Ledger()
    started = time.monotonic()

    # Cycle 1: ~2,000 records: 2 writers x (250 PutRecord + 5 x 50 PutRecords) ... on one 4-shard stream,
    # plus a second pass of the same shape so the total reaches 2,000.
    write_concurrently(server, [s1, s1], 250, 5, 50, ledger, "c1")
    assert ledger.total() == 2000
    server.kill()
    server.start()
    verify(server, ledger, [s1], [4])
    client = server.client()
    assert client.describe_stream_summary(StreamName=s1)["StreamDescriptionSummary"]["StreamCreationTimestamp"] \
        == created
    assert client.describe_stream_summary(StreamARN=arn)["StreamDescriptionSummary"]["StreamARN"] == arn

    # Cycles 2-4: a new stream (its creation is acknowledged too), more writes, kill, restart, verify everything.
    streams, counts = [s1], [4]
    for cycle in range(2, 5):
        assert time.monotonic() - started < 150, "durability test is taking too long"
        client = server.client()
        s = create_stream(client, unique_name(f"dur{cycle}"), shards=2)
        streams.append(s)
        counts.append(2)
        before = {k: (len(v), max(int(r[0]) for r in v)) for k, v in ledger.by_shard.items()}
        write_concurrently(server, [s1, s], 60, 2, 20, ledger, f"c{cycle}")
        # Numbers issued after a crash never reuse or go below earlier ones.
        for key, recs in ledger.by_shard.items():
            count, top = before.get(key, (0, -1))
            new = recs[count:]
            if key[0] in (s1, s):
                assert new, f"{key}: this cycle's writers should have reached every shard"
            assert all(int(r[0]) > top for r in new), f"{key}: sequence number reused after restart"
            for seq, _, _ in new[-3:]:
                assert_seq_shape(seq, int(key[1][len("shardId-"):]))
        server.kill()
        server.start()
        verify(server, ledger, streams, counts)
    assert ledger.total() == 2000 + 3 * 2 * 2 * (60 + 40)
    assert server.stop() == 0


def test_kill_9_right_after_single_ack(server_factory):
    """The tightest window: one PutRecord acknowledged, then SIGKILL at once."""
    server = server_factory()
    server.start()
    client = server.client()
    name = create_stream(client, shards=1)
    acked = []
    for i in range(3):
        r = client.put_record(StreamName=name, Data=b"only-%d" % i, PartitionKey="k")
        acked.append((r["SequenceNumber"], b"only-%d" % i))
        server.kill()
        server.start()
        client = server.client()
        got = [(x["SequenceNumber"], x["Data"]) for x in read_shard(client, name, shard_id(0))]
        assert got == acked
    assert server.stop() == 0


def test_sigterm_is_clean_and_state_survives_restart(server_factory):
    server = server_factory()
    server.start()
    client = server.client()
    name = create_stream(client, shards=2)
    client.add_tags_to_stream(StreamName=name, Tags={"keep": "me"})
    client.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=48)
    r = client.put_records(StreamName=name, Records=[{"Data": b"%d" % i, "PartitionKey": f"k{i}"} for i in range(20)])
    assert r["FailedRecordCount"] == 0
    t0 = time.monotonic()
    assert server.stop(timeout=15) == 0, server.log_tail()
    assert time.monotonic() - t0 < 15
    server.start()
    client = server.client()
    s = client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert s["RetentionPeriodHours"] == 48 and s["OpenShardCount"] == 2
    assert client.list_tags_for_stream(StreamName=name)["Tags"] == [{"Key": "keep", "Value": "me"}]
    got = []
    for i in range(2):
        got += [x["SequenceNumber"] for x in read_shard(client, name, shard_id(i))]
    assert sorted(got, key=int) == sorted((x["SequenceNumber"] for x in r["Records"]), key=int)
    # A deleted stream stays deleted across restarts.
    client.delete_stream(StreamName=name)
    client.get_waiter("stream_not_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    assert server.stop() == 0
    server.start()
    assert name not in server.client().list_streams()["StreamNames"]
    assert server.stop() == 0


def test_kill_9_with_writes_in_flight(server_factory):
    """SIGKILL while writers are mid-request: every acknowledged record survives with its sequence
    number; records whose call never returned may or may not be there, but at most once and intact."""
    server = server_factory()
    server.start()
    name = create_stream(server.client(), shards=2)
    ledger = Ledger()
    attempted: set[bytes] = set()
    lock = threading.Lock()

    for cycle in range(3):
        stop = threading.Event()

        def writer(w, client):
            i = 0
            while not stop.is_set():
                batch = [(f"x{cycle}-{w}-{i + j}".encode(), f"k{(i + j) % 11}") for j in range(1 + (i % 3) * 10)]
                i += len(batch)
                with lock:
                    attempted.update(d for d, _ in batch)
                try:
                    if len(batch) == 1:
                        d, k = batch[0]
                        r = client.put_record(StreamName=name, Data=d, PartitionKey=k)
                        ledger.ack(f"{cycle}-{w}", name, r["ShardId"], r["SequenceNumber"], d, k)
                    else:
                        resp = client.put_records(StreamName=name,
                                                  Records=[{"Data": d, "PartitionKey": k} for d, k in batch])
                        for (d, k), r in zip(batch, resp["Records"]):
                            if "ErrorCode" not in r:
                                ledger.ack(f"{cycle}-{w}", name, r["ShardId"], r["SequenceNumber"], d, k)
                except Exception:
                    return  # the node is gone

        threads = [threading.Thread(target=writer, args=(w, server.client(connect_timeout=2, read_timeout=10)))
                   for w in range(4)]
        target = ledger.total() + 300
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while ledger.total() < target:
            assert time.monotonic() < deadline, "writers made no progress"
            time.sleep(0.005)
        server.kill()
        stop.set()
        for t in threads:
            t.join(30)
        assert not any(t.is_alive() for t in threads)

        server.start()
        client = server.client()
        for i in range(2):
            sid = shard_id(i)
            got = read_shard(client, name, sid, timeout=60)
            seqs = [int(r["SequenceNumber"]) for r in got]
            assert seqs == sorted(set(seqs)), f"{sid}: duplicates or disorder after crash"
            datas = [r["Data"] for r in got]
            assert len(datas) == len(set(datas)), f"{sid}: a record was stored twice"
            assert set(datas) <= attempted, f"{sid}: records nobody wrote"
            have = {(r["SequenceNumber"], r["Data"], r["PartitionKey"]) for r in got}
            lost = [e for e in ledger.expected(name, sid) if e not in have]
            assert not lost, f"{sid}: {len(lost)} acknowledged records lost after kill -9, e.g. {lost[:3]}"
            # Writes after the restart continue above everything that survived.
            if got:
                r = client.put_record(StreamName=name, Data=f"after-{cycle}-{i}".encode(), PartitionKey="k",
                                      ExplicitHashKey=client.list_shards(StreamName=name)["Shards"][i][
                                          "HashKeyRange"]["StartingHashKey"])
                assert int(r["SequenceNumber"]) > seqs[-1]
                ledger.ack("after", name, sid, r["SequenceNumber"], f"after-{cycle}-{i}".encode(), "k")
                with lock:
                    attempted.add(f"after-{cycle}-{i}".encode())
    assert server.stop() == 0


def _last_segment(server, stream_dir_hint: str = "shardId-000000000000"):
    segs = sorted(p for p in server.data_dir.rglob("*.log") if p.parent.name == stream_dir_hint)
    assert segs, f"no segment files for {stream_dir_hint} under {server.data_dir}"
    return segs[-1]


def test_torn_tail_after_kill_9(server_factory):
    """A crash can leave a half-written or zero-filled tail: the node must start, truncate it and keep
    every entry before the damage (issue 2, "Done when": truncation never crashes the node)."""
    server = server_factory()
    server.start()
    client = server.client()
    name = create_stream(client, shards=1)
    written = []

    def put(n, tag):
        for i in range(n):
            r = client.put_record(StreamName=name, Data=f"{tag}-{i}".encode() * 3, PartitionKey="k")
            written.append((r["SequenceNumber"], f"{tag}-{i}".encode() * 3))

    def check(min_len):
        got = [(r["SequenceNumber"], r["Data"]) for r in read_shard(server.client(), name, shard_id(0))]
        assert got == written[:len(got)], "records before the damage must be intact and in order"
        assert len(got) >= min_len, f"only {len(got)} of {len(written)} records survived a tail cut"
        return got

    put(40, "a")
    server.kill()
    seg = _last_segment(server)
    with open(seg, "r+b") as f:  # cut into the last entry
        f.truncate(seg.stat().st_size - 5)
    server.start()
    got = check(len(written) - 1)
    del written[len(got):]

    client = server.client()
    put(20, "b")
    server.kill()
    seg = _last_segment(server)
    with open(seg, "ab") as f:  # a zero-filled tail, as after a crash during preallocation
        f.write(b"\0" * 4096)
    server.start()
    check(len(written))

    client = server.client()
    put(5, "c")
    server.kill()
    seg = _last_segment(server)
    with open(seg, "ab") as f:  # garbage that looks like the start of a frame
        f.write(b"\x00\x00\x01\x00" + b"\xab" * 10)
    server.start()
    check(len(written))
    # And the log keeps working after recovery.
    client = server.client()
    put(3, "d")
    check(len(written))
    assert server.stop() == 0


def test_metadata_and_iterators_survive_kill_9(server_factory):
    """Acknowledged control-plane changes (create, tags, retention, delete) survive kill -9, and an
    iterator issued before the crash still reads after the restart (KCL keeps its iterators)."""
    server = server_factory()
    server.start()
    client = server.client()
    keep = create_stream(client, shards=2)
    gone = create_stream(client, shards=1)
    r = client.put_record(StreamName=keep, Data=b"before", PartitionKey="k", ExplicitHashKey="0")
    it = client.get_shard_iterator(StreamName=keep, ShardId=shard_id(0), ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"]
    client.add_tags_to_stream(StreamName=keep, Tags={"survives": "yes"})
    client.increase_stream_retention_period(StreamName=keep, RetentionPeriodHours=100)
    client.delete_stream(StreamName=gone)
    client.get_waiter("stream_not_exists").wait(StreamName=gone, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    server.kill()
    server.start()
    client = server.client()
    s = client.describe_stream_summary(StreamName=keep)["StreamDescriptionSummary"]
    assert s["RetentionPeriodHours"] == 100 and s["OpenShardCount"] == 2 and s["StreamARN"] == stream_arn(keep)
    assert client.list_tags_for_stream(StreamName=keep)["Tags"] == [{"Key": "survives", "Value": "yes"}]
    names = [n for p in client.get_paginator("list_streams").paginate() for n in p["StreamNames"]]
    assert keep in names and gone not in names
    got = client.get_records(ShardIterator=it)
    assert [(x["SequenceNumber"], x["Data"]) for x in got["Records"]] == [(r["SequenceNumber"], b"before")]
    assert server.stop() == 0


def test_sigterm_with_writes_in_flight(server_factory):
    """SIGTERM while four writers are busy: exit 0 within the deadline, and every acknowledged record
    is there after the restart."""
    server = server_factory()
    server.start()
    name = create_stream(server.client(), shards=2)
    ledger = Ledger()
    stop = threading.Event()

    def writer(w, client):
        i = 0
        while not stop.is_set():
            d = f"t{w}-{i}".encode()
            try:
                r = client.put_record(StreamName=name, Data=d, PartitionKey=f"k{i % 7}")
            except Exception:
                return
            ledger.ack(str(w), name, r["ShardId"], r["SequenceNumber"], d, f"k{i % 7}")
            i += 1

    threads = [threading.Thread(target=writer, args=(w, server.client(connect_timeout=2, read_timeout=10)))
               for w in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while ledger.total() < 200:
        assert time.monotonic() < deadline, "writers made no progress"
        time.sleep(0.005)
    rc = server.stop(timeout=15)
    stop.set()
    for t in threads:
        t.join(30)
    assert rc == 0, f"exit code {rc} on SIGTERM under load"
    server.start()
    client = server.client()
    for i in range(2):
        sid = shard_id(i)
        got = [(r["SequenceNumber"], r["Data"], r["PartitionKey"]) for r in read_shard(client, name, sid)]
        have = set(got)
        lost = [e for e in ledger.expected(name, sid) if e not in have]
        assert not lost, f"{sid}: {len(lost)} acknowledged records lost across SIGTERM"
        assert [int(g[0]) for g in got] == sorted({int(g[0]) for g in got})
    assert server.stop() == 0
