"""Where peers' tests (moto's Kinesis tests, kinesis-mock) and Rill disagreed, Rill answers as AWS does (issue 16,
item 5): closed parents in SplitShard/MergeShards, resharding an on-demand stream, the path PutRecords names for an
oversized record, malformed ConsumerARN and ResourceARN values, and DescribeLimits' defaults.
"""

import os

import pytest

from conftest import (
    ACCOUNT,
    REGION,
    create_stream,
    expected_ranges,
    expect_error,
    shard_id,
    stream_arn,
    unique_name,
    wait_active,
)

MIB = 1024 * 1024
MID = str(2**127)
CONSUMER_ARN_PATTERN = (
    "^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+")
RESOURCE_ARN_PATTERN = "arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+"


def not_eligible(shard: str, stream: str) -> str:
    return (f"Shard {shard} in stream {stream} under account {ACCOUNT} has already been merged or split, "
            "and thus is not eligible for merging or splitting.")


def test_split_of_a_closed_shard_is_invalid_argument(kinesis):
    name = create_stream(kinesis, shards=1)
    kinesis.split_shard(StreamName=name, ShardToSplit=shard_id(0), NewStartingHashKey=MID)
    wait_active(kinesis, name)
    expect_error(kinesis.split_shard, "InvalidArgumentException", not_eligible(shard_id(0), name),
                 StreamName=name, ShardToSplit=shard_id(0), NewStartingHashKey=MID)


def test_merge_with_a_closed_shard_is_invalid_argument(kinesis):
    name = create_stream(kinesis, shards=2)
    kinesis.split_shard(StreamName=name, ShardToSplit=shard_id(1), NewStartingHashKey=str(3 * 2**126))
    wait_active(kinesis, name)
    # Shard 1 is closed now; either position of the pair gets the same answer, naming the closed shard.
    expect_error(kinesis.merge_shards, "InvalidArgumentException", not_eligible(shard_id(1), name),
                 StreamName=name, ShardToMerge=shard_id(0), AdjacentShardToMerge=shard_id(1))
    expect_error(kinesis.merge_shards, "InvalidArgumentException", not_eligible(shard_id(1), name),
                 StreamName=name, ShardToMerge=shard_id(1), AdjacentShardToMerge=shard_id(0))


@pytest.fixture
def on_demand(kinesis) -> str:
    name = unique_name("od")
    kinesis.create_stream(StreamName=name, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    wait_active(kinesis, name)
    return name


def test_resharding_an_on_demand_stream_is_a_validation_error(kinesis, on_demand):
    message = f"Request is invalid. Stream {on_demand} under account {ACCOUNT} is in On-Demand mode."
    expect_error(kinesis.split_shard, "ValidationException", message,
                 StreamName=on_demand, ShardToSplit=shard_id(0), NewStartingHashKey="1000")
    expect_error(kinesis.merge_shards, "ValidationException", message,
                 StreamName=on_demand, ShardToMerge=shard_id(0), AdjacentShardToMerge=shard_id(1))
    expect_error(kinesis.update_shard_count, "ValidationException", message,
                 StreamARN=stream_arn(on_demand), TargetShardCount=8, ScalingType="UNIFORM_SCALING")
    assert kinesis.describe_stream_summary(StreamName=on_demand)["StreamDescriptionSummary"]["OpenShardCount"] == 4


def too_long(slot: int, size: int) -> str:
    return (f"Value 'java.nio.HeapByteBuffer[pos=0 lim={size} cap={size}]' at 'records.{slot}.member.data' "
            f"failed to satisfy constraint: Member must have length less than or equal to {MIB}")


def test_put_records_names_each_oversized_record_by_path(kinesis, stream):
    big = MIB + 1
    records = [{"Data": b"ok", "PartitionKey": "a"},
               {"Data": os.urandom(big), "PartitionKey": "b"},
               {"Data": os.urandom(big + 1), "PartitionKey": "c"}]
    expect_error(kinesis.put_records, "ValidationException",
                 f"2 validation errors detected: {too_long(2, big)}; {too_long(3, big + 1)}",
                 StreamName=stream, Records=records)
    expect_error(kinesis.put_records, "ValidationException", f"1 validation error detected: {too_long(1, big)}",
                 StreamName=stream, Records=[{"Data": os.urandom(big), "PartitionKey": "b"}])
    # Nothing of a refused request is written.
    it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id(0), ShardIteratorType="TRIM_HORIZON")
    assert kinesis.get_records(ShardIterator=it["ShardIterator"])["Records"] == []


def pattern_error(value: str, path: str, pattern: str) -> str:
    return (f"1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {pattern}")


# A consumer ARN without its creation timestamp, and one that is no ARN at all.
@pytest.mark.parametrize("suffix", ["/consumer/c", "/consumer/c:12x"])
def test_malformed_consumer_arn_is_a_validation_error(kinesis, stream, suffix):
    bad = stream_arn(stream) + suffix
    message = pattern_error(bad, "consumerARN", CONSUMER_ARN_PATTERN)
    expect_error(kinesis.describe_stream_consumer, "ValidationException", message, ConsumerARN=bad)
    expect_error(kinesis.deregister_stream_consumer, "ValidationException", message, ConsumerARN=bad)
    expect_error(kinesis.subscribe_to_shard, "ValidationException", message,
                 ConsumerARN=bad, ShardId=shard_id(0), StartingPosition={"Type": "LATEST"})


def test_malformed_resource_arn_is_a_validation_error(kinesis, stream):
    bad = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:streams-{stream}"
    message = pattern_error(bad, "resourceARN", RESOURCE_ARN_PATTERN)
    expect_error(kinesis.get_resource_policy, "ValidationException", message, ResourceARN=bad)
    expect_error(kinesis.delete_resource_policy, "ValidationException", message, ResourceARN=bad)
    expect_error(kinesis.put_resource_policy, "ValidationException", message, ResourceARN=bad, Policy="{}")
    # A well-formed consumer ARN naming no consumer still reaches the lookup.
    missing = stream_arn(stream) + "/consumer/none:1"
    expect_error(kinesis.get_resource_policy, "ResourceNotFoundException", ResourceARN=missing)
    expect_error(kinesis.describe_stream_consumer, "ResourceNotFoundException", ConsumerARN=missing)


def test_describe_limits_reports_the_documented_defaults(kinesis):
    # AWS's documented defaults for us-east-1 (Quotas and limits, Kinesis Data Streams Developer Guide):
    # 20,000 shards per account and 50 on-demand streams. Some emulators answer 500, an older default.
    limits = kinesis.describe_limits()
    assert limits["ShardLimit"] == 20_000
    assert limits["OnDemandStreamCountLimit"] == 50


# moto's totals (said to be checked against AWS) next to Rill's: equal where the new boundaries are old ones or
# where moto's halve-then-merge also needs every boundary split; longer where equal final shards need more splits
# than moto's unequal ones (docs/api-compatibility.md, "UpdateShardCount lineage").
@pytest.mark.parametrize("initial,target,moto_total,rill_total",
                         [(2, 4, 6, 6), (4, 5, 15, 15), (4, 2, 6, 6), (5, 3, 7, 13), (10, 13, 37, 43)])
def test_update_shard_count_history(kinesis, initial, target, moto_total, rill_total):
    name = create_stream(kinesis, shards=initial)
    kinesis.update_shard_count(StreamName=name, TargetShardCount=target, ScalingType="UNIFORM_SCALING")
    wait_active(kinesis, name)
    shards = kinesis.list_shards(StreamName=name)["Shards"]
    assert len(shards) == rill_total, (moto_total, len(shards))
    open_ranges = sorted((int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
                         for s in shards if "EndingSequenceNumber" not in s["SequenceNumberRange"])
    assert open_ranges == expected_ranges(target)
