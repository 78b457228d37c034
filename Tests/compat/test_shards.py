"""ListShards: pagination, ExclusiveStartShardId, every ShardFilter type, argument errors (KINESIS-SEMANTICS 4)."""

import datetime
import math
import time

import pytest
from botocore.exceptions import ClientError

from conftest import (
    client_error,
    create_stream,
    expect_error,
    expected_ranges,
    not_found_message,
    shard_id,
    stream_arn,
    unique_name,
)

ALL5 = [shard_id(i) for i in range(5)]


@pytest.fixture
def stream5(kinesis):
    return create_stream(kinesis, shards=5)


def _ids(resp):
    return [s["ShardId"] for s in resp["Shards"]]


def test_list_shards_shape(kinesis, stream5):
    resp = kinesis.list_shards(StreamName=stream5)
    assert _ids(resp) == ALL5
    assert "NextToken" not in resp
    ranges = expected_ranges(5)
    for s, (lo, hi) in zip(resp["Shards"], ranges):
        assert s["HashKeyRange"] == {"StartingHashKey": str(lo), "EndingHashKey": str(hi)}
        assert s["SequenceNumberRange"]["StartingSequenceNumber"].isdigit()
        assert "EndingSequenceNumber" not in s["SequenceNumberRange"]
        assert "ParentShardId" not in s


def test_list_shards_by_arn(kinesis, stream5):
    assert _ids(kinesis.list_shards(StreamARN=stream_arn(stream5))) == ALL5


def test_list_shards_next_token_pagination(kinesis, stream5):
    resp = kinesis.list_shards(StreamName=stream5, MaxResults=2)
    assert _ids(resp) == ALL5[:2]
    token = resp["NextToken"]
    assert token
    resp = kinesis.list_shards(NextToken=token, MaxResults=2)
    assert _ids(resp) == ALL5[2:4]
    resp = kinesis.list_shards(NextToken=resp["NextToken"], MaxResults=2)
    assert _ids(resp) == ALL5[4:]
    assert "NextToken" not in resp, "NextToken only when more shards remain"
    # NextToken alone (no MaxResults) also works.
    first = kinesis.list_shards(StreamName=stream5, MaxResults=1)
    assert _ids(kinesis.list_shards(NextToken=first["NextToken"])) == ALL5[1:]



def test_boto3_list_shards_paginator_with_stream_name_fails_like_aws(kinesis, stream5):
    # botocore's paginator resends StreamName with the NextToken, which AWS rejects (boto/botocore#2009).
    pages = kinesis.get_paginator("list_shards").paginate(StreamName=stream5, PaginationConfig={"PageSize": 2})
    it = iter(pages)
    assert _ids(next(it)) == ALL5[:2]
    expect_error(lambda: next(it), "InvalidArgumentException", "NextToken and StreamName cannot be provided together.")


def test_list_shards_exact_page_has_no_token(kinesis, stream5):
    resp = kinesis.list_shards(StreamName=stream5, MaxResults=5)
    assert _ids(resp) == ALL5
    assert "NextToken" not in resp


def test_list_shards_exclusive_start_shard_id(kinesis, stream5):
    assert _ids(kinesis.list_shards(StreamName=stream5, ExclusiveStartShardId=shard_id(1))) == ALL5[2:]
    resp = kinesis.list_shards(StreamName=stream5, ExclusiveStartShardId=shard_id(1), MaxResults=2)
    assert _ids(resp) == ALL5[2:4]
    assert _ids(kinesis.list_shards(NextToken=resp["NextToken"])) == ALL5[4:]
    assert _ids(kinesis.list_shards(StreamName=stream5, ExclusiveStartShardId=shard_id(4))) == []


@pytest.mark.parametrize("ftype", ["AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AT_LATEST"])
def test_list_shards_filters_without_arguments(kinesis, stream5, ftype):
    assert _ids(kinesis.list_shards(StreamName=stream5, ShardFilter={"Type": ftype})) == ALL5


def test_list_shards_filter_after_shard_id(kinesis, stream5):
    resp = kinesis.list_shards(StreamName=stream5, ShardFilter={"Type": "AFTER_SHARD_ID", "ShardId": shard_id(2)})
    assert _ids(resp) == ALL5[3:]


@pytest.mark.parametrize("ftype", ["AT_TIMESTAMP", "FROM_TIMESTAMP"])
def test_list_shards_timestamp_filters(kinesis, stream5, ftype):
    # botocore sends whole seconds: use the first whole second after creation, once the clock has passed it.
    created = kinesis.describe_stream_summary(StreamName=stream5)["StreamDescriptionSummary"]["StreamCreationTimestamp"]
    t = math.ceil(created.timestamp() + 0.001)
    deadline = time.monotonic() + 5
    while time.time() < t + 0.01:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    later = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    assert _ids(kinesis.list_shards(StreamName=stream5, ShardFilter={"Type": ftype, "Timestamp": later})) == ALL5


def test_list_shards_from_timestamp_before_creation_is_clamped(kinesis, stream5):
    old = datetime.datetime(2015, 1, 1, tzinfo=datetime.timezone.utc)
    assert _ids(kinesis.list_shards(StreamName=stream5, ShardFilter={"Type": "FROM_TIMESTAMP", "Timestamp": old})) \
        == ALL5


def test_list_shards_filter_with_max_results(kinesis, stream5):
    resp = kinesis.list_shards(StreamName=stream5, MaxResults=3, ShardFilter={"Type": "AT_LATEST"})
    assert _ids(resp) == ALL5[:3]
    assert _ids(kinesis.list_shards(NextToken=resp["NextToken"])) == ALL5[3:]


@pytest.mark.parametrize("ftype", ["AFTER_SHARD_ID", "AT_TIMESTAMP", "FROM_TIMESTAMP"])
def test_list_shards_filter_missing_argument(kinesis, stream5, ftype):
    expect_error(kinesis.list_shards, "InvalidArgumentException", StreamName=stream5, ShardFilter={"Type": ftype})


def test_list_shards_next_token_with_stream_name(kinesis, stream5):
    token = kinesis.list_shards(StreamName=stream5, MaxResults=1)["NextToken"]
    expect_error(kinesis.list_shards, "InvalidArgumentException",
                 "NextToken and StreamName cannot be provided together.", NextToken=token, StreamName=stream5)


def test_list_shards_next_token_with_exclusive_start(kinesis, stream5):
    token = kinesis.list_shards(StreamName=stream5, MaxResults=1)["NextToken"]
    expect_error(kinesis.list_shards, "InvalidArgumentException",
                 NextToken=token, ExclusiveStartShardId=shard_id(0))


@pytest.mark.parametrize("member", ["StreamARN", "ExclusiveStartShardId", "ShardFilter"])
def test_list_shards_next_token_travels_alone(kinesis, stream5, member):
    token = kinesis.list_shards(StreamName=stream5, MaxResults=1)["NextToken"]
    value = {"StreamARN": stream_arn(stream5), "ExclusiveStartShardId": shard_id(0),
             "ShardFilter": {"Type": "AT_LATEST"}}[member]
    expect_error(kinesis.list_shards, "InvalidArgumentException",
                 f"NextToken and {member} cannot be provided together.", NextToken=token, **{member: value})


def test_list_shards_next_token_with_stream_creation_timestamp(kinesis, stream5):
    # AWS docs: "Don't specify StreamName or StreamCreationTimestamp if you specify NextToken".
    created = kinesis.describe_stream_summary(StreamName=stream5)["StreamDescriptionSummary"]["StreamCreationTimestamp"]
    token = kinesis.list_shards(StreamName=stream5, MaxResults=1)["NextToken"]
    expect_error(kinesis.list_shards, "InvalidArgumentException", NextToken=token, StreamCreationTimestamp=created)


def test_list_shards_with_stream_creation_timestamp(kinesis, stream5):
    created = kinesis.describe_stream_summary(StreamName=stream5)["StreamDescriptionSummary"]["StreamCreationTimestamp"]
    assert _ids(kinesis.list_shards(StreamName=stream5, StreamCreationTimestamp=created)) == ALL5


def test_list_shards_neither_stream_nor_token(kinesis):
    expect_error(kinesis.list_shards, "InvalidArgumentException", "Either NextToken or StreamName should be provided.")


def test_list_shards_garbage_next_token(kinesis):
    with pytest.raises(ClientError) as ei:
        kinesis.list_shards(NextToken="not-a-token")
    code, _, status = client_error(ei)
    assert code in ("InvalidArgumentException", "ExpiredNextTokenException") and status == 400


def test_list_shards_unknown_stream(kinesis):
    name = unique_name("missing")
    expect_error(kinesis.list_shards, "ResourceNotFoundException", not_found_message(name), StreamName=name)
