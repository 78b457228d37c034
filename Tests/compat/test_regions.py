"""Regions and accounts (KINESIS-SEMANTICS 2.1; ARCHITECTURE "Namespaces"): a request
signed for a region is served in that region's namespace; `--region` and
`--account-id` set what appears in ARNs and messages."""

import json
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import (
    client_error,
    ACCOUNT,
    cli_json,
    create_stream,
    expect_error,
    not_found_message,
    read_shard,
    shard_id,
    stream_arn,
    unique_name,
)


def test_streams_are_per_region_namespace(rill, kinesis):
    west = rill.client(region="us-west-2")
    name = unique_name("region")
    create_stream(west, name, shards=2)

    d = west.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert d["StreamARN"] == stream_arn(name, region="us-west-2")
    assert d["OpenShardCount"] == 2
    west_names = [n for p in west.get_paginator("list_streams").paginate() for n in p["StreamNames"]]
    assert name in west_names

    # Invisible from us-east-1.
    expect_error(kinesis.describe_stream_summary, "ResourceNotFoundException", not_found_message(name),
                 StreamName=name)
    east_names = [n for p in kinesis.get_paginator("list_streams").paginate() for n in p["StreamNames"]]
    assert name not in east_names
    expect_error(kinesis.put_record, "ResourceNotFoundException", not_found_message(name),
                 StreamName=name, Data=b"x", PartitionKey="k")

    # The same name can exist in both regions, independently.
    create_stream(kinesis, name, shards=1)
    assert kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["OpenShardCount"] == 1
    assert kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"] == \
        stream_arn(name)
    west.put_record(StreamName=name, Data=b"west", PartitionKey="a")
    kinesis.put_record(StreamName=name, Data=b"east", PartitionKey="a")
    assert [r["Data"] for r in read_shard(west, name, shard_id(0))] == [b"west"]
    assert [r["Data"] for r in read_shard(kinesis, name, shard_id(0))] == [b"east"]

    # Region-scoped ARNs work in their own region.
    assert west.describe_stream(StreamARN=stream_arn(name, region="us-west-2"))["StreamDescription"]["Shards"][1][
        "ShardId"] == shard_id(1)

    # The aws CLI with --region sees the right namespace.
    out = cli_json(rill.cli("describe-stream-summary", "--stream-name", name, region="us-west-2"))
    assert out["StreamDescriptionSummary"]["OpenShardCount"] == 2

    # Deleting in one region leaves the other alone.
    west.delete_stream(StreamName=name)
    west.get_waiter("stream_not_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    assert kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"


def test_iterators_are_per_namespace(rill, kinesis):
    """ARCHITECTURE "Namespaces": iterators are per namespace. An iterator issued in us-west-2 must not
    read us-west-2 data through a request signed for us-east-1."""
    west = rill.client(region="us-west-2")
    name = unique_name("ns-iter")
    create_stream(west, name, shards=1)
    west.put_record(StreamName=name, Data=b"west-only", PartitionKey="a")
    west_it = west.get_shard_iterator(StreamName=name, ShardId=shard_id(0),
                                      ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert [r["Data"] for r in west.get_records(ShardIterator=west_it)["Records"]] == [b"west-only"]
    with pytest.raises(ClientError) as ei:
        kinesis.get_records(ShardIterator=west_it)
    code, _, status = client_error(ei)
    assert status == 400 and code in ("InvalidArgumentException", "ResourceNotFoundException"), code


def test_server_region_and_account_flags(server_factory):
    account = "123456789012"
    server = server_factory(region="eu-west-1", account_id=account)
    server.start()
    client = server.client(region="eu-west-1")
    name = create_stream(client, shards=1)
    arn = f"arn:aws:kinesis:eu-west-1:{account}:stream/{name}"

    assert client.describe_stream(StreamName=name)["StreamDescription"]["StreamARN"] == arn
    assert client.describe_stream_summary(StreamARN=arn)["StreamDescriptionSummary"]["StreamName"] == name
    summaries = [s for p in client.get_paginator("list_streams").paginate() for s in p["StreamSummaries"]]
    assert [s["StreamARN"] for s in summaries if s["StreamName"] == name] == [arn]

    missing = unique_name("missing")
    expect_error(client.describe_stream, "ResourceNotFoundException",
                 f"Stream {missing} under account {account} not found.", StreamName=missing)
    expect_error(client.create_stream, "ResourceInUseException",
                 f"Stream {name} under account {account} already exists.", StreamName=name, ShardCount=1)
    assert account != ACCOUNT

    # A request without any SigV4 scope is served in the --region namespace.
    req = urllib.request.Request(server.endpoint + "/", method="POST", data=json.dumps({"StreamName": name}).encode(),
                                 headers={"Content-Type": "application/x-amz-json-1.1",
                                          "X-Amz-Target": "Kinesis_20131202.DescribeStreamSummary"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200
        assert json.loads(resp.read())["StreamDescriptionSummary"]["StreamARN"] == arn

    # Data path works in that namespace too.
    r = client.put_record(StreamARN=arn, Data=b"eu", PartitionKey="k")
    assert [x["SequenceNumber"] for x in read_shard(client, name, shard_id(0))] == [r["SequenceNumber"]]
    assert server.stop() == 0
