"""PutRecord, PutRecords and GetRecords (KINESIS-SEMANTICS 2.2, 2.3, 2.4, 3.2)."""

import datetime
import os
import threading
import random
import re
import time

import pytest
from botocore.exceptions import ClientError

from conftest import (
    ACCOUNT,
    HASH_MAX,
    client_error,
    create_stream,
    expect_error,
    expected_ranges,
    list_all_shards,
    md5_hash_key,
    not_found_message,
    read_shard,
    shard_for_hash,
    shard_id,
    stream_arn,
    assert_seq_shape,
    unique_name,
)

MIB = 1024 * 1024


def test_md5_vectors_from_spec():
    # Sanity check of the test's own routing function against KINESIS-SEMANTICS 2.2.
    assert md5_hash_key("a") == 16955237001963240173058271559858726497
    assert md5_hash_key("1") == 261578874264819908609102035485573088411


def test_put_record_routes_by_md5(kinesis, stream4):
    shards = list_all_shards(kinesis, stream4)
    rng = random.Random(7)
    keys = ["a", "1", "ключ", "🔑-key", ""] + [f"pk-{rng.getrandbits(64):x}" for _ in range(40)]
    keys = [k for k in keys if k]
    used = set()
    for k in keys:
        resp = kinesis.put_record(StreamName=stream4, Data=k.encode(), PartitionKey=k)
        expected = shard_for_hash(shards, md5_hash_key(k))
        assert resp["ShardId"] == expected, f"key {k!r} (hash {md5_hash_key(k)}) went to {resp['ShardId']}"
        used.add(expected)
    assert len(used) == 4, "test keys should cover all four shards"
    # "a" hashes into shard 0, "1" into shard 3 of four.
    assert shard_for_hash(shards, md5_hash_key("a")) == shard_id(0)
    assert shard_for_hash(shards, md5_hash_key("1")) == shard_id(3)


def test_put_record_explicit_hash_key_boundaries(kinesis):
    name = create_stream(kinesis, shards=3)
    ranges = expected_ranges(3)
    cases = [
        (0, 0), (ranges[0][1], 0), (ranges[1][0], 1), (ranges[1][1], 1), (ranges[2][0], 2), (HASH_MAX, 2),
    ]
    for ehk, idx in cases:
        # The partition key alone would route elsewhere for some of these; EHK wins.
        resp = kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="a", ExplicitHashKey=str(ehk))
        assert resp["ShardId"] == shard_id(idx), f"ExplicitHashKey {ehk}"


def test_put_record_explicit_hash_key_out_of_range(kinesis, stream):
    too_big = str(2**128)
    expect_error(kinesis.put_record, "InvalidArgumentException",
                 "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
                 f"Specified value was {too_big}",
                 StreamName=stream, Data=b"x", PartitionKey="k", ExplicitHashKey=too_big)


def test_put_records_explicit_hash_key_out_of_range_fails_whole_request(kinesis, stream):
    too_big = str(2**128 + 5)
    expect_error(kinesis.put_records, "InvalidArgumentException",
                 "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
                 f"Specified value was {too_big}",
                 StreamName=stream,
                 Records=[{"Data": b"ok", "PartitionKey": "k"},
                          {"Data": b"bad", "PartitionKey": "k", "ExplicitHashKey": too_big}])
    assert read_shard(kinesis, stream, shard_id(0)) == [], "a rejected PutRecords must write nothing"


@pytest.mark.parametrize("ehk", ["abc", "007", "-1", "1" * 40])
def test_put_record_explicit_hash_key_not_a_number(kinesis, stream, ehk):
    expect_error(kinesis.put_record, "ValidationException",
                 f"1 validation error detected: Value '{ehk}' at 'explicitHashKey' failed to satisfy constraint: "
                 "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})",
                 StreamName=stream, Data=b"x", PartitionKey="k", ExplicitHashKey=ehk)


def test_put_record_explicit_hash_key_39_digits_out_of_range(kinesis, stream):
    ehk = "9" * 39
    expect_error(kinesis.put_record, "InvalidArgumentException",
                 "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
                 f"Specified value was {ehk}",
                 StreamName=stream, Data=b"x", PartitionKey="k", ExplicitHashKey=ehk)


def test_partition_key_too_long(kinesis, stream):
    pk = "p" * 257
    expect_error(kinesis.put_record, "ValidationException",
                 f"1 validation error detected: Value '{pk}' at 'partitionKey' failed to satisfy constraint: "
                 "Member must have length less than or equal to 256",
                 StreamName=stream, Data=b"x", PartitionKey=pk)
    # 256 is fine.
    kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="p" * 256)


def test_sequence_number_shape_per_shard(kinesis, stream4):
    shards = list_all_shards(kinesis, stream4)
    for i, s in enumerate(shards):
        ehk = s["HashKeyRange"]["StartingHashKey"]
        seqs = []
        for j in range(3):
            r = kinesis.put_record(StreamName=stream4, Data=b"%d" % j, PartitionKey="k", ExplicitHashKey=ehk)
            assert r["ShardId"] == shard_id(i)
            assert_seq_shape(r["SequenceNumber"], i)
            seqs.append(int(r["SequenceNumber"]))
        assert seqs == sorted(seqs) and len(set(seqs)) == 3
        assert int(s["SequenceNumberRange"]["StartingSequenceNumber"]) <= seqs[0]


def test_sequence_numbers_strictly_increase_per_shard(kinesis, stream):
    seqs = []
    for i in range(30):
        r = kinesis.put_record(StreamName=stream, Data=b"r%d" % i, PartitionKey=f"key-{i}")
        seqs.append(int(r["SequenceNumber"]))
    batch = kinesis.put_records(StreamName=stream,
                                Records=[{"Data": b"b%d" % i, "PartitionKey": f"b-{i}"} for i in range(30)])
    seqs += [int(r["SequenceNumber"]) for r in batch["Records"]]
    assert all(a < b for a, b in zip(seqs, seqs[1:])), "sequence numbers must strictly increase within a shard"
    recs = read_shard(kinesis, stream, shard_id(0))
    assert [int(r["SequenceNumber"]) for r in recs] == seqs
    assert [r["Data"] for r in recs] == [b"r%d" % i for i in range(30)] + [b"b%d" % i for i in range(30)]


def test_sequence_number_for_ordering(kinesis, stream4):
    first = kinesis.put_record(StreamName=stream4, Data=b"1", PartitionKey="order")
    second = kinesis.put_record(StreamName=stream4, Data=b"2", PartitionKey="order",
                                SequenceNumberForOrdering=first["SequenceNumber"])
    assert second["ShardId"] == first["ShardId"]
    assert int(second["SequenceNumber"]) > int(first["SequenceNumber"])
    third = kinesis.put_record(StreamName=stream4, Data=b"3", PartitionKey="order",
                               SequenceNumberForOrdering=second["SequenceNumber"])
    assert int(third["SequenceNumber"]) > int(second["SequenceNumber"])
    recs = read_shard(kinesis, stream4, first["ShardId"])
    assert [r["Data"] for r in recs] == [b"1", b"2", b"3"]


def test_sequence_number_for_ordering_invalid(kinesis, stream):
    # Matches the model pattern, but is no sequence number this stream could have issued.
    expect_error(kinesis.put_record, "InvalidArgumentException",
                 f"ExclusiveMinimumSequenceNumber 12345 used in PutRecord on stream {stream} under account {ACCOUNT} "
                 "is invalid.",
                 StreamName=stream, Data=b"x", PartitionKey="k", SequenceNumberForOrdering="12345")


def test_sequence_number_for_ordering_not_a_number(kinesis, stream):
    expect_error(kinesis.put_record, "ValidationException",
                 "1 validation error detected: Value 'abc' at 'sequenceNumberForOrdering' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})",
                 StreamName=stream, Data=b"x", PartitionKey="k", SequenceNumberForOrdering="abc")


def test_put_records_500_mixed_shards_in_order(kinesis, stream4):
    shards = list_all_shards(kinesis, stream4)
    entries = [{"Data": b"batch-%03d" % i + os.urandom(8), "PartitionKey": f"pk-{i}"} for i in range(500)]
    resp = kinesis.put_records(StreamName=stream4, Records=entries)
    assert resp["FailedRecordCount"] == 0
    assert len(resp["Records"]) == 500
    per_shard: dict[str, list] = {}
    for e, r in zip(entries, resp["Records"]):
        assert "ErrorCode" not in r, r
        assert r["ShardId"] == shard_for_hash(shards, md5_hash_key(e["PartitionKey"]))
        assert_seq_shape(r["SequenceNumber"], int(r["ShardId"][len("shardId-"):]))
        per_shard.setdefault(r["ShardId"], []).append((r["SequenceNumber"], e["Data"], e["PartitionKey"]))
    assert len(per_shard) == 4
    for sid, expected in per_shard.items():
        seqs = [int(s) for s, _, _ in expected]
        assert all(a < b for a, b in zip(seqs, seqs[1:])), f"{sid}: request order must give increasing numbers"
        got = read_shard(kinesis, stream4, sid)
        assert [(r["SequenceNumber"], r["Data"], r["PartitionKey"]) for r in got] == expected


def test_put_records_501_is_validation_exception(kinesis, stream):
    msg = expect_error(kinesis.put_records, "ValidationException", StreamName=stream,
                       Records=[{"Data": b"x", "PartitionKey": "k"}] * 501)
    assert re.fullmatch(r"1 validation error detected: Value .* at 'records' failed to satisfy constraint: "
                        r"Member must have length less than or equal to 500", msg, re.S), msg
    assert read_shard(kinesis, stream, shard_id(0)) == []


def test_put_records_by_arn_and_put_record_by_arn(kinesis, stream):
    arn = stream_arn(stream)
    r1 = kinesis.put_record(StreamARN=arn, Data=b"one", PartitionKey="k")
    r2 = kinesis.put_records(StreamARN=arn, Records=[{"Data": b"two", "PartitionKey": "k"}])
    assert r2["FailedRecordCount"] == 0
    assert int(r2["Records"][0]["SequenceNumber"]) > int(r1["SequenceNumber"])
    it = kinesis.get_shard_iterator(StreamARN=arn, ShardId=shard_id(0), ShardIteratorType="TRIM_HORIZON")
    got = kinesis.get_records(ShardIterator=it["ShardIterator"], StreamARN=arn)
    assert [r["Data"] for r in got["Records"]] == [b"one", b"two"]


def test_put_to_unknown_stream(kinesis):
    name = unique_name("missing")
    expect_error(kinesis.put_record, "ResourceNotFoundException", not_found_message(name),
                 StreamName=name, Data=b"x", PartitionKey="k")
    expect_error(kinesis.put_records, "ResourceNotFoundException", not_found_message(name),
                 StreamName=name, Records=[{"Data": b"x", "PartitionKey": "k"}])


def test_data_round_trip_binary_and_empty(kinesis, stream):
    payloads = [bytes(range(256)) * 3, b"", b"\x00", "üñïçødé ✓".encode(), os.urandom(4096), b"="]
    keys = ["bin", "empty", "nul", "ключ-🔑", "rand", "eq"]
    t0 = datetime.datetime.now(datetime.timezone.utc)
    kinesis.put_record(StreamName=stream, Data=payloads[0], PartitionKey=keys[0])
    kinesis.put_record(StreamName=stream, Data=payloads[1], PartitionKey=keys[1])
    kinesis.put_records(StreamName=stream,
                        Records=[{"Data": d, "PartitionKey": k} for d, k in zip(payloads[2:], keys[2:])])
    t1 = datetime.datetime.now(datetime.timezone.utc)
    recs = read_shard(kinesis, stream, shard_id(0))
    assert [r["Data"] for r in recs] == payloads
    assert [r["PartitionKey"] for r in recs] == keys
    slack = datetime.timedelta(seconds=2)
    for r in recs:
        ts = r["ApproximateArrivalTimestamp"]
        assert isinstance(ts, datetime.datetime)
        assert t0 - slack <= ts <= t1 + slack, (t0, ts, t1)
        assert_seq_shape(r["SequenceNumber"], 0)


def test_max_record_size(kinesis, stream):
    pk = "k"
    ok = os.urandom(MIB - len(pk))
    kinesis.put_record(StreamName=stream, Data=ok, PartitionKey=pk)
    with pytest.raises(ClientError) as ei:
        kinesis.put_record(StreamName=stream, Data=os.urandom(MIB + 1), PartitionKey=pk)
    code, _, status = client_error(ei)
    assert code in ("ValidationException", "InvalidArgumentException")
    assert status == 400
    recs = read_shard(kinesis, stream, shard_id(0))
    assert len(recs) == 1 and recs[0]["Data"] == ok


def test_put_records_10_mib_total_is_accepted(kinesis, stream):
    # 10 records of 1 MiB each (data + key): the request body is ~14 MB of JSON.
    entries = [{"Data": bytes([i]) * (MIB - 2), "PartitionKey": f"k{i}"} for i in range(10)]
    resp = kinesis.put_records(StreamName=stream, Records=entries)
    assert resp["FailedRecordCount"] == 0
    it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id(0), ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"]
    recs = []
    while len(recs) < 10:
        resp = kinesis.get_records(ShardIterator=it)
        assert resp["Records"], "GetRecords must make progress"
        assert sum(len(r["Data"]) + len(r["PartitionKey"]) for r in resp["Records"]) <= 10 * MIB
        recs += resp["Records"]
        it = resp["NextShardIterator"]
    assert [r["Data"] for r in recs] == [e["Data"] for e in entries]


def test_put_records_over_10_mib_total_is_rejected(kinesis, stream):
    # 11 records of 1 MiB (data + key) each: every record fits, the request does not.
    entries = [{"Data": b"z" * (MIB - 3), "PartitionKey": f"k{i:02d}"} for i in range(11)]
    with pytest.raises(ClientError) as ei:
        kinesis.put_records(StreamName=stream, Records=entries)
    code, msg, status = client_error(ei)
    assert (code, status) == ("InvalidArgumentException", 400), msg
    assert read_shard(kinesis, stream, shard_id(0)) == [], "a rejected PutRecords must write nothing"


def test_get_records_limit_and_order(kinesis, stream):
    kinesis.put_records(StreamName=stream, Records=[{"Data": b"%d" % i, "PartitionKey": "k"} for i in range(10)])
    it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id(0), ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"]
    got = []
    for expected_len in (3, 3, 3, 1):
        resp = kinesis.get_records(ShardIterator=it, Limit=3)
        assert len(resp["Records"]) == expected_len
        got += resp["Records"]
        assert resp["NextShardIterator"] != it, "each GetRecords must return a new iterator"
        it = resp["NextShardIterator"]
    assert [r["Data"] for r in got] == [b"%d" % i for i in range(10)]
    resp = kinesis.get_records(ShardIterator=it, Limit=3)
    assert resp["Records"] == []
    assert resp["MillisBehindLatest"] == 0
    assert resp["NextShardIterator"]


def test_get_records_millis_behind_latest(kinesis, stream):
    kinesis.put_records(StreamName=stream, Records=[{"Data": b"%d" % i, "PartitionKey": "k"} for i in range(20)])
    it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id(0), ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"]
    resp = kinesis.get_records(ShardIterator=it, Limit=1)
    assert isinstance(resp["MillisBehindLatest"], int) and resp["MillisBehindLatest"] >= 0
    resp = kinesis.get_records(ShardIterator=resp["NextShardIterator"])
    assert len(resp["Records"]) == 19
    assert resp["MillisBehindLatest"] == 0, "a reply that reaches the tip is 0 ms behind"


def test_get_records_millis_behind_latest_when_behind(kinesis, stream):
    kinesis.put_record(StreamName=stream, Data=b"early", PartitionKey="k")
    t = time.monotonic()
    while time.monotonic() < t + 0.2:  # let the clock move on before the next record
        time.sleep(0.01)
    kinesis.put_record(StreamName=stream, Data=b"late", PartitionKey="k")
    it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id(0), ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"]
    first = kinesis.get_records(ShardIterator=it, Limit=1)
    assert [r["Data"] for r in first["Records"]] == [b"early"]
    assert first["MillisBehindLatest"] > 0, "a consumer with a 200 ms newer record unread is behind"
    second = kinesis.get_records(ShardIterator=first["NextShardIterator"], Limit=1)
    assert [r["Data"] for r in second["Records"]] == [b"late"]
    assert second["MillisBehindLatest"] == 0


def test_get_records_empty_open_shard_has_next_iterator(kinesis, stream):
    it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id(0), ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"]
    for _ in range(3):
        resp = kinesis.get_records(ShardIterator=it)
        assert resp["Records"] == []
        assert resp.get("NextShardIterator"), "open shard: NextShardIterator always present"
        assert resp["MillisBehindLatest"] == 0
        it = resp["NextShardIterator"]
    kinesis.put_record(StreamName=stream, Data=b"late", PartitionKey="k")
    resp = kinesis.get_records(ShardIterator=it)
    assert [r["Data"] for r in resp["Records"]] == [b"late"]


def test_get_records_limit_too_large(kinesis, stream):
    it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id(0), ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"]
    expect_error(kinesis.get_records, "ValidationException",
                 "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: "
                 "Member must have value less than or equal to 10000",
                 ShardIterator=it, Limit=10001)
    resp = kinesis.get_records(ShardIterator=it, Limit=10000)
    assert resp["Records"] == []


@pytest.mark.parametrize("iterator", ["garbage", "AAAAAAAAAAAAAAAA", "x" * 512])
def test_get_records_garbage_iterator(kinesis, iterator):
    expect_error(kinesis.get_records, "InvalidArgumentException", "Invalid ShardIterator.", ShardIterator=iterator)


def test_get_records_tampered_iterator(kinesis, stream):
    kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="k")
    it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id(0), ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"]
    mid = len(it) // 2
    tampered = it[:mid] + ("A" if it[mid] != "A" else "B") + it[mid + 1:]
    expect_error(kinesis.get_records, "InvalidArgumentException", "Invalid ShardIterator.", ShardIterator=tampered)
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=it)["Records"]] == [b"x"]


def test_iterator_from_deleted_and_recreated_stream_is_rejected(kinesis):
    name = create_stream(kinesis, shards=1)
    kinesis.put_record(StreamName=name, Data=b"old", PartitionKey="k")
    it = kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0), ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"]
    kinesis.delete_stream(StreamName=name)
    kinesis.get_waiter("stream_not_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    create_stream(kinesis, name, shards=1)
    kinesis.put_record(StreamName=name, Data=b"new", PartitionKey="k")
    with pytest.raises(ClientError) as ei:
        kinesis.get_records(ShardIterator=it)
    code, _, _ = client_error(ei)
    assert code in ("InvalidArgumentException", "ResourceNotFoundException", "ExpiredIteratorException")


def test_concurrent_writers_to_one_shard(rill, stream):
    """Concurrent PutRecord calls (group commit): every ack is unique and read back in sequence order."""
    acks, errors = [], []
    lock = threading.Lock()

    def writer(w):
        try:
            c = rill.client()
            for i in range(40):
                r = c.put_record(StreamName=stream, Data=b"w%d-%d" % (w, i), PartitionKey=f"k{w}")
                with lock:
                    acks.append((r["SequenceNumber"], b"w%d-%d" % (w, i)))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(acks) == 320
    assert len({s for s, _ in acks}) == 320, "duplicate sequence numbers"
    got = [(r["SequenceNumber"], r["Data"]) for r in read_shard(rill.client(), stream, shard_id(0))]
    assert got == sorted(acks, key=lambda a: int(a[0]))
    # Per writer, the data comes back in the order it was written.
    for w in range(8):
        mine = [d for _, d in got if d.startswith(b"w%d-" % w)]
        assert mine == [b"w%d-%d" % (w, i) for i in range(40)]


def test_get_records_10000_in_one_call(kinesis, stream):
    for b in range(20):
        resp = kinesis.put_records(StreamName=stream,
                                   Records=[{"Data": b"%05d" % (b * 500 + i), "PartitionKey": "k"} for i in range(500)])
        assert resp["FailedRecordCount"] == 0
    it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id(0), ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"]
    resp = kinesis.get_records(ShardIterator=it, Limit=10000)
    assert [r["Data"] for r in resp["Records"]] == [b"%05d" % i for i in range(10000)]
    assert resp["MillisBehindLatest"] == 0
    # Default Limit is 10,000 as well.
    assert len(kinesis.get_records(ShardIterator=it)["Records"]) == 10000


def test_partition_key_length_counts_characters(kinesis, stream4):
    shards = list_all_shards(kinesis, stream4)
    pk = "é" * 256  # 256 characters, 512 UTF-8 bytes
    r = kinesis.put_record(StreamName=stream4, Data=b"x", PartitionKey=pk)
    assert r["ShardId"] == shard_for_hash(shards, md5_hash_key(pk))
    got = read_shard(kinesis, stream4, r["ShardId"])
    assert [x["PartitionKey"] for x in got] == [pk]


def test_reader_tailing_concurrent_writers_sees_every_record_once(rill, stream):
    stop_at = time.monotonic() + 3
    acked, errors = [], []
    lock = threading.Lock()

    def writer(w):
        try:
            c = rill.client()
            i = 0
            while time.monotonic() < stop_at:
                if i % 4 == 3:
                    batch = [b"w%d-%d" % (w, i + j) for j in range(25)]
                    resp = c.put_records(StreamName=stream, Records=[{"Data": d, "PartitionKey": "k"} for d in batch])
                    assert resp["FailedRecordCount"] == 0
                    with lock:
                        acked.extend((r["SequenceNumber"], d) for r, d in zip(resp["Records"], batch))
                    i += 25
                else:
                    d = b"w%d-%d" % (w, i)
                    r = c.put_record(StreamName=stream, Data=d, PartitionKey="k")
                    with lock:
                        acked.append((r["SequenceNumber"], d))
                    i += 1
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    reader = rill.client()
    it = reader.get_shard_iterator(StreamName=stream, ShardId=shard_id(0), ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"]
    seen = []
    deadline = time.monotonic() + 30
    while True:
        assert time.monotonic() < deadline, "reader could not catch up"
        writers_done = not any(t.is_alive() for t in threads)  # every ack happened before this read
        resp = reader.get_records(ShardIterator=it, Limit=137)
        seen += [(r["SequenceNumber"], r["Data"]) for r in resp["Records"]]
        it = resp["NextShardIterator"]
        if writers_done and not resp["Records"]:
            break
    for t in threads:
        t.join()
    assert not errors, errors
    seqs = [int(s) for s, _ in seen]
    assert seqs == sorted(set(seqs)), "tailing reader saw duplicates or out-of-order records"
    assert sorted(seen, key=lambda x: int(x[0])) == sorted(acked, key=lambda x: int(x[0]))
