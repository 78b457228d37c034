"""Stream control plane: CreateStream, DeleteStream, ListStreams, DescribeStream,
DescribeStreamSummary, DescribeLimits (KINESIS-SEMANTICS 2.1, 2.2, 4, 5.1, 5.4, 6)."""

import datetime
import time

import pytest
from botocore.exceptions import ClientError

from conftest import (
    client_error,
    ACCOUNT,
    REGION,
    create_stream,
    expect_error,
    expected_ranges,
    not_found_message,
    shard_id,
    stream_arn,
    unique_name,
    wait_active,
)


def test_create_stream_is_active_with_expected_description(kinesis):
    before = datetime.datetime.now(datetime.timezone.utc)
    name = unique_name("create")
    resp = kinesis.create_stream(StreamName=name, ShardCount=3)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    started = time.monotonic()
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    assert time.monotonic() - started < 10

    d = kinesis.describe_stream(StreamName=name)["StreamDescription"]
    assert d["StreamName"] == name
    assert d["StreamARN"] == stream_arn(name)
    assert d["StreamStatus"] == "ACTIVE"
    assert d["RetentionPeriodHours"] == 24
    assert d["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert d["HasMoreShards"] is False
    assert [s["ShardId"] for s in d["Shards"]] == [shard_id(i) for i in range(3)]
    # Enhanced monitoring off: one element with an empty metric list (KINESIS-SEMANTICS 5.6).
    assert d["EnhancedMonitoring"] == [{"ShardLevelMetrics": []}]
    created = d["StreamCreationTimestamp"]
    assert isinstance(created, datetime.datetime)
    assert before - datetime.timedelta(seconds=5) <= created <= datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=5)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_new_stream_hash_ranges_tile_the_space(kinesis, n):
    name = create_stream(kinesis, shards=n)
    shards = kinesis.describe_stream(StreamName=name)["StreamDescription"]["Shards"]
    assert len(shards) == n
    got = [(int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"])) for s in shards]
    assert got == expected_ranges(n)
    for i, s in enumerate(shards):
        assert s["ShardId"] == shard_id(i)
        assert "ParentShardId" not in s and "AdjacentParentShardId" not in s
        # Hash keys are canonical decimal strings.
        for k in ("StartingHashKey", "EndingHashKey"):
            v = s["HashKeyRange"][k]
            assert v == str(int(v))
        seqr = s["SequenceNumberRange"]
        assert seqr["StartingSequenceNumber"].isdigit()
        assert "EndingSequenceNumber" not in seqr, "open shard must not have EndingSequenceNumber"


def test_hash_range_literals_from_spec(kinesis):
    # The end values quoted in KINESIS-SEMANTICS 2.2, independent of our formula.
    ends = {
        2: ["170141183460469231731687303715884105727", "340282366920938463463374607431768211455"],
        3: ["113427455640312821154458202477256070484", "226854911280625642308916404954512140969",
            "340282366920938463463374607431768211455"],
        4: ["85070591730234615865843651857942052863", "170141183460469231731687303715884105727",
            "255211775190703847597530955573826158591", "340282366920938463463374607431768211455"],
    }
    for n, expected in ends.items():
        name = create_stream(kinesis, shards=n)
        shards = kinesis.list_shards(StreamName=name)["Shards"]
        assert [s["HashKeyRange"]["EndingHashKey"] for s in shards] == expected
        assert shards[0]["HashKeyRange"]["StartingHashKey"] == "0"
        for a, b in zip(shards, shards[1:]):
            assert int(b["HashKeyRange"]["StartingHashKey"]) == int(a["HashKeyRange"]["EndingHashKey"]) + 1


def test_on_demand_stream_has_four_shards(kinesis):
    name = unique_name("ondemand")
    kinesis.create_stream(StreamName=name, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    d = kinesis.describe_stream(StreamName=name)["StreamDescription"]
    assert d["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert len(d["Shards"]) == 4
    assert [(int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"])) for s in d["Shards"]] \
        == expected_ranges(4)
    summ = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert summ["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert summ["OpenShardCount"] == 4


def test_create_duplicate_stream_is_resource_in_use(kinesis, stream):
    expect_error(kinesis.create_stream, "ResourceInUseException",
                 f"Stream {stream} under account {ACCOUNT} already exists.", StreamName=stream, ShardCount=1)
    # The existing stream is untouched.
    assert kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["OpenShardCount"] == 1


def test_stream_names_are_case_sensitive(kinesis):
    base = unique_name("Case")
    create_stream(kinesis, base, shards=1)
    create_stream(kinesis, base.lower(), shards=2)
    assert kinesis.describe_stream_summary(StreamName=base)["StreamDescriptionSummary"]["OpenShardCount"] == 1
    assert kinesis.describe_stream_summary(StreamName=base.lower())["StreamDescriptionSummary"]["OpenShardCount"] == 2


def test_delete_stream(kinesis):
    name = create_stream(kinesis, shards=2)
    kinesis.put_record(StreamName=name, Data=b"old", PartitionKey="k", ExplicitHashKey="0")
    open_before = kinesis.describe_limits()["OpenShardCount"]
    resp = kinesis.delete_stream(StreamName=name)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    kinesis.get_waiter("stream_not_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    assert kinesis.describe_limits()["OpenShardCount"] == open_before - 2
    expect_error(kinesis.describe_stream, "ResourceNotFoundException", not_found_message(name), StreamName=name)
    expect_error(kinesis.put_record, "ResourceNotFoundException", not_found_message(name),
                 StreamName=name, Data=b"x", PartitionKey="k")
    assert name not in kinesis.list_streams(ExclusiveStartStreamName=name[:-1], Limit=10)["StreamNames"]
    # The name can be reused; the new incarnation is a fresh, empty stream.
    create_stream(kinesis, name, shards=1)
    assert kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["OpenShardCount"] == 1
    it = kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0), ShardIteratorType="TRIM_HORIZON")
    assert kinesis.get_records(ShardIterator=it["ShardIterator"])["Records"] == []


def test_delete_stream_with_enforce_consumer_deletion_and_by_arn(kinesis):
    a = create_stream(kinesis, shards=1)
    kinesis.delete_stream(StreamName=a, EnforceConsumerDeletion=True)
    kinesis.get_waiter("stream_not_exists").wait(StreamName=a, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    b = create_stream(kinesis, shards=1)
    kinesis.delete_stream(StreamARN=stream_arn(b))
    kinesis.get_waiter("stream_not_exists").wait(StreamName=b, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    expect_error(kinesis.describe_stream_summary, "ResourceNotFoundException", not_found_message(b), StreamName=b)


def test_delete_unknown_stream(kinesis):
    name = unique_name("missing")
    expect_error(kinesis.delete_stream, "ResourceNotFoundException", not_found_message(name), StreamName=name)


def test_describe_unknown_stream(kinesis):
    name = unique_name("missing")
    expect_error(kinesis.describe_stream, "ResourceNotFoundException", not_found_message(name), StreamName=name)
    expect_error(kinesis.describe_stream_summary, "ResourceNotFoundException", not_found_message(name),
                 StreamName=name)
    expect_error(kinesis.describe_stream, "ResourceNotFoundException", not_found_message(name),
                 StreamARN=stream_arn(name))


def test_list_streams_pagination(kinesis):
    prefix = unique_name("ls")
    names = [f"{prefix}-{c}" for c in "abcde"]
    for n in reversed(names):
        create_stream(kinesis, n, shards=1)

    # Whole listing via NextToken, 2 at a time.
    seen, pages = [], 0
    resp = kinesis.list_streams(Limit=2)
    while True:
        pages += 1
        assert len(resp["StreamNames"]) <= 2
        assert len(resp["StreamSummaries"]) == len(resp["StreamNames"])
        assert [s["StreamName"] for s in resp["StreamSummaries"]] == resp["StreamNames"]
        seen += resp["StreamNames"]
        if not resp["HasMoreStreams"]:
            assert "NextToken" not in resp
            break
        assert len(resp["StreamNames"]) == 2
        assert resp.get("NextToken"), "HasMoreStreams without NextToken"
        resp = kinesis.list_streams(NextToken=resp["NextToken"], Limit=2)
        assert pages < 10000
    assert len(seen) == len(set(seen)), "ListStreams pages overlap"
    assert seen == sorted(seen), "ListStreams must list in name order"
    assert all(n in seen for n in names)

    # ExclusiveStartStreamName.
    resp = kinesis.list_streams(ExclusiveStartStreamName=names[0], Limit=2)
    assert resp["StreamNames"] == names[1:3]
    assert resp["HasMoreStreams"] is True
    resp = kinesis.list_streams(ExclusiveStartStreamName=names[2], Limit=3)
    assert resp["StreamNames"][:2] == names[3:5]
    # The start name need not exist: listing resumes after it in name order.
    resp = kinesis.list_streams(ExclusiveStartStreamName=names[1] + "0", Limit=2)
    assert resp["StreamNames"] == names[2:4]

    # The boto3 paginator (NextToken based) finds all of them too.
    paged = []
    for page in kinesis.get_paginator("list_streams").paginate(PaginationConfig={"PageSize": 3}):
        paged += page["StreamNames"]
    assert paged == seen


def test_list_streams_limit_is_capped_at_100(kinesis):
    resp = kinesis.list_streams(Limit=10000)
    assert len(resp["StreamNames"]) <= 100
    assert len(resp["StreamSummaries"]) == len(resp["StreamNames"])


def test_list_streams_summaries(kinesis):
    name = create_stream(kinesis, shards=1)
    od = unique_name("ls-od")
    kinesis.create_stream(StreamName=od, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    kinesis.get_waiter("stream_exists").wait(StreamName=od, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    summaries = {}
    for page in kinesis.get_paginator("list_streams").paginate():
        for s in page["StreamSummaries"]:
            summaries[s["StreamName"]] = s
    s = summaries[name]
    assert s["StreamARN"] == stream_arn(name)
    assert s["StreamStatus"] == "ACTIVE"
    assert s["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert isinstance(s["StreamCreationTimestamp"], datetime.datetime)
    assert summaries[od]["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}


def test_describe_stream_shard_pagination(kinesis):
    name = create_stream(kinesis, shards=5)
    d = kinesis.describe_stream(StreamName=name, Limit=2)["StreamDescription"]
    assert [s["ShardId"] for s in d["Shards"]] == [shard_id(0), shard_id(1)]
    assert d["HasMoreShards"] is True
    d = kinesis.describe_stream(StreamName=name, Limit=2, ExclusiveStartShardId=shard_id(1))["StreamDescription"]
    assert [s["ShardId"] for s in d["Shards"]] == [shard_id(2), shard_id(3)]
    assert d["HasMoreShards"] is True
    d = kinesis.describe_stream(StreamName=name, Limit=2, ExclusiveStartShardId=shard_id(3))["StreamDescription"]
    assert [s["ShardId"] for s in d["Shards"]] == [shard_id(4)]
    assert d["HasMoreShards"] is False
    d = kinesis.describe_stream(StreamName=name, ExclusiveStartShardId=shard_id(4))["StreamDescription"]
    assert d["Shards"] == [] and d["HasMoreShards"] is False

    ids = []
    for page in kinesis.get_paginator("describe_stream").paginate(StreamName=name, PaginationConfig={"PageSize": 2}):
        ids += [s["ShardId"] for s in page["StreamDescription"]["Shards"]]
    assert ids == [shard_id(i) for i in range(5)]


def test_describe_stream_by_arn(kinesis, stream):
    d = kinesis.describe_stream(StreamARN=stream_arn(stream))["StreamDescription"]
    assert d["StreamName"] == stream
    assert d["StreamARN"] == stream_arn(stream)
    assert len(d["Shards"]) == 1


def test_describe_stream_summary(kinesis):
    name = create_stream(kinesis, shards=3)
    for kwargs in ({"StreamName": name}, {"StreamARN": stream_arn(name)}):
        s = kinesis.describe_stream_summary(**kwargs)["StreamDescriptionSummary"]
        assert s["StreamName"] == name
        assert s["StreamARN"] == stream_arn(name)
        assert s["StreamStatus"] == "ACTIVE"
        assert s["OpenShardCount"] == 3
        assert s["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
        assert s["RetentionPeriodHours"] == 24
        assert s.get("ConsumerCount", 0) == 0
        assert isinstance(s["StreamCreationTimestamp"], datetime.datetime)
        assert "Shards" not in s


def test_describe_limits(kinesis):
    before = kinesis.describe_limits()
    for k in ("ShardLimit", "OpenShardCount", "OnDemandStreamCount", "OnDemandStreamCountLimit"):
        assert isinstance(before[k], int) and before[k] >= 0, k
    assert before["ShardLimit"] > 0 and before["OnDemandStreamCountLimit"] > 0
    create_stream(kinesis, shards=3)
    od = unique_name("lim-od")
    kinesis.create_stream(StreamName=od, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    kinesis.get_waiter("stream_exists").wait(StreamName=od, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    after = kinesis.describe_limits()
    assert after["OpenShardCount"] == before["OpenShardCount"] + 3 + 4
    assert after["OnDemandStreamCount"] == before["OnDemandStreamCount"] + 1
    assert after["ShardLimit"] == before["ShardLimit"]


def test_region_and_account_in_arn_default(kinesis, stream):
    arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    assert arn == f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream}"


def test_stream_name_validation(kinesis):
    expect_error(kinesis.create_stream, "ValidationException",
                 "1 validation error detected: Value 'bad name!' at 'streamName' failed to satisfy constraint: "
                 "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
                 StreamName="bad name!", ShardCount=1)
    long_name = "n" * 129
    expect_error(kinesis.create_stream, "ValidationException",
                 f"1 validation error detected: Value '{long_name}' at 'streamName' failed to satisfy constraint: "
                 "Member must have length less than or equal to 128",
                 StreamName=long_name, ShardCount=1)
    dotted = unique_name("Ab.c_d-9")
    create_stream(kinesis, dotted, shards=1)
    assert kinesis.describe_stream(StreamName=dotted)["StreamDescription"]["StreamARN"] == stream_arn(dotted)
    name = "n" * 128
    create_stream(kinesis, name, shards=1)
    assert kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamName"] == name
    kinesis.delete_stream(StreamName=name)
    kinesis.get_waiter("stream_not_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})


def test_neither_stream_name_nor_arn(kinesis):
    expect_error(kinesis.describe_stream_summary, "InvalidArgumentException")
    expect_error(kinesis.describe_stream, "InvalidArgumentException")


def test_stream_name_and_arn_must_agree(kinesis):
    a = create_stream(kinesis, shards=1)
    b = create_stream(kinesis, shards=2)
    # Matching pair: fine.
    s = kinesis.describe_stream_summary(StreamName=a, StreamARN=stream_arn(a))["StreamDescriptionSummary"]
    assert s["StreamName"] == a
    # Mismatched pair: rejected, never silently resolved to one of them.
    with pytest.raises(ClientError) as ei:
        kinesis.describe_stream_summary(StreamName=a, StreamARN=stream_arn(b))
    code, _, status = client_error(ei)
    assert status == 400 and code in ("InvalidArgumentException", "ResourceNotFoundException"), code


def test_arn_of_another_account_does_not_resolve(kinesis, stream):
    foreign = f"arn:aws:kinesis:{REGION}:111111111111:stream/{stream}"
    with pytest.raises(ClientError) as ei:
        kinesis.describe_stream_summary(StreamARN=foreign)
    code, _, status = client_error(ei)
    assert status == 400 and code in ("ResourceNotFoundException", "InvalidArgumentException",
                                      "AccessDeniedException"), code


def test_shard_quota(kinesis):
    lim = kinesis.describe_limits()
    extra = lim["ShardLimit"] - lim["OpenShardCount"] + 1
    name = unique_name("quota")
    msg = expect_error(kinesis.create_stream, "LimitExceededException", StreamName=name, ShardCount=extra)
    prefix = (f"This request would exceed the shard limit for the account {ACCOUNT} in {REGION}. Current shard count "
              f"for the account: {lim['OpenShardCount']}. Limit: {lim['ShardLimit']}. Number of additional shards "
              f"that would have resulted from this request: {extra}. Refer to the AWS Service Limits page (")
    assert msg.startswith(prefix), msg
    assert msg.endswith(") for current limits and how to request higher limits."), msg
    expect_error(kinesis.describe_stream_summary, "ResourceNotFoundException", not_found_message(name),
                 StreamName=name)
    assert kinesis.describe_limits()["OpenShardCount"] == lim["OpenShardCount"]


def test_default_page_sizes(server_factory):
    """ListStreams and DescribeStream return at most 100 by default; ListShards up to 1000 (own node, so
    the stream count is known)."""
    server = server_factory()
    server.start()
    c = server.client()
    names = [f"m{i:03d}" for i in range(105)]
    for n in names:
        c.create_stream(StreamName=n, ShardCount=1)
    for n in (names[0], names[-1]):
        c.get_waiter("stream_exists").wait(StreamName=n, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    first = c.list_streams()
    assert first["StreamNames"] == names[:100] and first["HasMoreStreams"] is True
    rest = c.list_streams(NextToken=first["NextToken"])
    assert rest["StreamNames"] == names[100:] and rest["HasMoreStreams"] is False

    big = create_stream(c, "big", shards=105)
    d = c.describe_stream(StreamName=big)["StreamDescription"]
    assert len(d["Shards"]) == 100 and d["HasMoreShards"] is True
    ids = [s["ShardId"] for p in c.get_paginator("describe_stream").paginate(StreamName=big)
           for s in p["StreamDescription"]["Shards"]]
    assert ids == [shard_id(i) for i in range(105)]
    shards = c.list_shards(StreamName=big)
    assert [s["ShardId"] for s in shards["Shards"]] == ids and "NextToken" not in shards
    got = [(int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"])) for s in shards["Shards"]]
    assert got == expected_ranges(105)
    assert server.stop() == 0


def test_update_stream_mode_switches_twice_a_day_and_keeps_the_shards(kinesis):
    name = unique_name("mode")
    kinesis.create_stream(StreamName=name, ShardCount=3)
    arn = wait_active(kinesis, name)["StreamARN"]
    shards = kinesis.list_shards(StreamName=name)["Shards"]
    for mode in ("ON_DEMAND", "PROVISIONED"):
        kinesis.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": mode})
        summary = wait_active(kinesis, name)
        assert summary["StreamModeDetails"] == {"StreamMode": mode}
        assert kinesis.list_shards(StreamName=name)["Shards"] == shards
    # Asking for the mode it has is no switch; a third switch within 24 hours is refused, as on AWS.
    kinesis.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "PROVISIONED"})
    message = expect_error(kinesis.update_stream_mode, "LimitExceededException", StreamARN=arn,
                           StreamModeDetails={"StreamMode": "ON_DEMAND"})
    assert "24 hours" in message
    assert wait_active(kinesis, name)["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
