"""GetShardIterator: the five iterator types and their argument errors (KINESIS-SEMANTICS 3.1)."""

import datetime
import math
import time

import pytest

from conftest import (
    ACCOUNT,
    create_stream,
    expect_error,
    not_found_message,
    read_shard,
    shard_id,
    stream_arn,
    unique_name,
)

MUST_EITHER = ("Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or "
               "(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. ")


def _put(kinesis, name, datas, **kw):
    return [kinesis.put_record(StreamName=name, Data=d, PartitionKey="k", **kw)["SequenceNumber"] for d in datas]


def _iter(kinesis, name, typ, sid=shard_id(0), **kw):
    return kinesis.get_shard_iterator(StreamName=name, ShardId=sid, ShardIteratorType=typ, **kw)["ShardIterator"]


def test_trim_horizon_reads_everything(kinesis, stream):
    seqs = _put(kinesis, stream, [b"a", b"b", b"c"])
    it = _iter(kinesis, stream, "TRIM_HORIZON")
    assert isinstance(it, str) and 1 <= len(it) <= 512
    recs = kinesis.get_records(ShardIterator=it)["Records"]
    assert [r["SequenceNumber"] for r in recs] == seqs
    assert [r["Data"] for r in recs] == [b"a", b"b", b"c"]


def test_latest_returns_only_later_writes(kinesis, stream):
    _put(kinesis, stream, [b"before-1", b"before-2"])
    it = _iter(kinesis, stream, "LATEST")
    resp = kinesis.get_records(ShardIterator=it)
    assert resp["Records"] == []
    assert resp["NextShardIterator"]
    _put(kinesis, stream, [b"after-1", b"after-2"])
    # Both the original LATEST iterator and the returned one see the later writes.
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=it)["Records"]] == [b"after-1", b"after-2"]
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=resp["NextShardIterator"])["Records"]] == \
        [b"after-1", b"after-2"]


def test_latest_on_empty_shard(kinesis, stream):
    it = _iter(kinesis, stream, "LATEST")
    _put(kinesis, stream, [b"first"])
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=it)["Records"]] == [b"first"]


def test_at_and_after_sequence_number(kinesis, stream):
    seqs = _put(kinesis, stream, [b"0", b"1", b"2", b"3"])
    it = _iter(kinesis, stream, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[1])
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=it)["Records"]] == [b"1", b"2", b"3"]
    it = _iter(kinesis, stream, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[1])
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=it)["Records"]] == [b"2", b"3"]
    it = _iter(kinesis, stream, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[3])
    resp = kinesis.get_records(ShardIterator=it)
    assert resp["Records"] == [] and resp["NextShardIterator"]
    _put(kinesis, stream, [b"4"])
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=resp["NextShardIterator"])["Records"]] == [b"4"]


def test_at_sequence_number_with_shard_starting_sequence_number(kinesis, stream):
    seqs = _put(kinesis, stream, [b"first", b"second"])
    start = kinesis.list_shards(StreamName=stream)["Shards"][0]["SequenceNumberRange"]["StartingSequenceNumber"]
    assert int(start) <= int(seqs[0])
    it = _iter(kinesis, stream, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=start)
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=it)["Records"]] == [b"first", b"second"]


def test_at_timestamp(kinesis, stream):
    _put(kinesis, stream, [b"old-1", b"old-2"])
    acked = time.time()
    # botocore sends whole seconds: pick the next whole second after the acks and wait until the clock passed it.
    boundary = math.ceil(acked + 0.01)
    deadline = time.monotonic() + 5
    while time.time() < boundary + 0.02:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    _put(kinesis, stream, [b"new-1", b"new-2"])
    ts = datetime.datetime.fromtimestamp(boundary, datetime.timezone.utc)
    it = _iter(kinesis, stream, "AT_TIMESTAMP", Timestamp=ts)
    recs = kinesis.get_records(ShardIterator=it)["Records"]
    assert [r["Data"] for r in recs] == [b"new-1", b"new-2"]
    for r in recs:
        assert r["ApproximateArrivalTimestamp"] >= ts

    # A timestamp before the stream existed starts at the trim horizon.
    it = _iter(kinesis, stream, "AT_TIMESTAMP", Timestamp=datetime.datetime(2015, 1, 1, tzinfo=datetime.timezone.utc))
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=it)["Records"]] == [b"old-1", b"old-2", b"new-1",
                                                                                      b"new-2"]
    # Epoch-seconds numbers are accepted as well (boto3 serialises them the same way).
    it = _iter(kinesis, stream, "AT_TIMESTAMP", Timestamp=boundary)
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=it)["Records"]] == [b"new-1", b"new-2"]


def test_at_timestamp_after_last_record_sees_later_writes(kinesis, stream):
    _put(kinesis, stream, [b"x"])
    now = datetime.datetime.now(datetime.timezone.utc)
    it = _iter(kinesis, stream, "AT_TIMESTAMP", Timestamp=now)
    # botocore truncates to whole seconds, so "x" may or may not be included; later writes must be.
    _put(kinesis, stream, [b"y"])
    data = [r["Data"] for r in kinesis.get_records(ShardIterator=it)["Records"]]
    assert data in ([b"y"], [b"x", b"y"])


@pytest.mark.parametrize("typ", ["AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"])
def test_sequence_type_without_sequence_number(kinesis, stream, typ):
    expect_error(kinesis.get_shard_iterator, "InvalidArgumentException",
                 MUST_EITHER + f"Request specified {typ} and no StartingSequenceNumber.",
                 StreamName=stream, ShardId=shard_id(0), ShardIteratorType=typ)


@pytest.mark.parametrize("typ", ["TRIM_HORIZON", "LATEST"])
def test_position_type_with_sequence_number(kinesis, stream, typ):
    seq = _put(kinesis, stream, [b"a"])[0]
    expect_error(kinesis.get_shard_iterator, "InvalidArgumentException",
                 MUST_EITHER + f"Request specified {typ} and also a StartingSequenceNumber.",
                 StreamName=stream, ShardId=shard_id(0), ShardIteratorType=typ, StartingSequenceNumber=seq)


def test_at_timestamp_without_timestamp(kinesis, stream):
    expect_error(kinesis.get_shard_iterator, "InvalidArgumentException",
                 "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
                 "Current request has no timestamp parameter.",
                 StreamName=stream, ShardId=shard_id(0), ShardIteratorType="AT_TIMESTAMP")


def test_sequence_number_from_another_shard(kinesis):
    name = create_stream(kinesis, shards=2)
    shards = kinesis.list_shards(StreamName=name)["Shards"]
    r = kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k",
                           ExplicitHashKey=shards[1]["HashKeyRange"]["StartingHashKey"])
    assert r["ShardId"] == shard_id(1)
    expect_error(kinesis.get_shard_iterator, "InvalidArgumentException",
                 "Invalid StartingSequenceNumber. It encodes shardId-000000000001, while it was used in a call to a "
                 "shard with shardId-000000000000",
                 StreamName=name, ShardId=shard_id(0), ShardIteratorType="AT_SEQUENCE_NUMBER",
                 StartingSequenceNumber=r["SequenceNumber"])


def test_sequence_number_from_another_stream(kinesis):
    # Two streams created back to back: a number from one must not position an iterator in the other.
    a = create_stream(kinesis, shards=1)
    b = create_stream(kinesis, shards=1)
    seq = kinesis.put_record(StreamName=a, Data=b"a", PartitionKey="k")["SequenceNumber"]
    kinesis.put_record(StreamName=b, Data=b"b", PartitionKey="k")
    expect_error(kinesis.get_shard_iterator, "InvalidArgumentException",
                 f"StartingSequenceNumber {seq} used in GetShardIterator on shard shardId-000000000000 in stream {b} "
                 f"under account {ACCOUNT} is invalid because it did not come from this stream.",
                 StreamName=b, ShardId=shard_id(0), ShardIteratorType="AT_SEQUENCE_NUMBER", StartingSequenceNumber=seq)


def test_unparsable_sequence_number(kinesis, stream):
    expect_error(kinesis.get_shard_iterator, "InvalidArgumentException",
                 f"StartingSequenceNumber 12345 used in GetShardIterator on shard shardId-000000000000 in stream "
                 f"{stream} under account {ACCOUNT} is invalid.",
                 StreamName=stream, ShardId=shard_id(0), ShardIteratorType="AT_SEQUENCE_NUMBER",
                 StartingSequenceNumber="12345")


def test_unknown_shard(kinesis, stream):
    expect_error(kinesis.get_shard_iterator, "ResourceNotFoundException",
                 f"Shard shardId-000000000009 in stream {stream} under account {ACCOUNT} does not exist",
                 StreamName=stream, ShardId=shard_id(9), ShardIteratorType="TRIM_HORIZON")


def test_unknown_stream(kinesis):
    name = unique_name("missing")
    expect_error(kinesis.get_shard_iterator, "ResourceNotFoundException", not_found_message(name),
                 StreamName=name, ShardId=shard_id(0), ShardIteratorType="TRIM_HORIZON")


def test_iterator_by_stream_arn(kinesis, stream):
    _put(kinesis, stream, [b"arn"])
    it = kinesis.get_shard_iterator(StreamARN=stream_arn(stream), ShardId=shard_id(0),
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=it)["Records"]] == [b"arn"]


def test_iterator_wrapped_in_quotes_is_accepted(kinesis, stream):
    _put(kinesis, stream, [b"q"])
    it = _iter(kinesis, stream, "TRIM_HORIZON")
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=f'"{it}"')["Records"]] == [b"q"]


def test_iterators_are_reusable_and_positions_independent(kinesis, stream):
    _put(kinesis, stream, [b"%d" % i for i in range(5)])
    it = _iter(kinesis, stream, "TRIM_HORIZON")
    a = kinesis.get_records(ShardIterator=it, Limit=2)
    b = kinesis.get_records(ShardIterator=it, Limit=2)
    assert [r["SequenceNumber"] for r in a["Records"]] == [r["SequenceNumber"] for r in b["Records"]]
    rest = read_shard(kinesis, stream, shard_id(0), "AFTER_SEQUENCE_NUMBER",
                      StartingSequenceNumber=a["Records"][-1]["SequenceNumber"])
    assert [r["Data"] for r in rest] == [b"2", b"3", b"4"]
