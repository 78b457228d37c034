"""The aws CLI (v1), unmodified, against rill.

Blob arguments: AWS CLI v1 base64-encodes a blob parameter given on the command
line itself (`--data hello` puts the bytes b"hello"; the request carries
"aGVsbG8="), unless `cli_binary_format` is configured otherwise (v2 assumes the
value is already base64). The suite isolates the CLI from any user config, so
v1 behaviour applies. Output blobs (get-records Data) are printed as base64.
"""

import base64
import json

from conftest import ACCOUNT, REGION, cli_json, shard_id, stream_arn, unique_name


def test_cli_full_round_trip(cli, kinesis):
    name = unique_name("cli")
    assert cli_json(cli("create-stream", "--stream-name", name, "--shard-count", "2")) is None
    # The CLI's own waiter.
    proc = cli("wait", "stream-exists", "--stream-name", name)
    assert proc.returncode == 0, proc.stderr

    summary = cli_json(cli("describe-stream-summary", "--stream-name", name))["StreamDescriptionSummary"]
    assert summary["StreamName"] == name
    assert summary["StreamARN"] == f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{name}"
    assert summary["StreamStatus"] == "ACTIVE"
    assert summary["OpenShardCount"] == 2
    assert summary["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}

    put = cli_json(cli("put-record", "--stream-name", name, "--partition-key", "a", "--data", "hello cli"))
    assert put["ShardId"] == shard_id(0)  # MD5("a") falls in the lower half
    assert len(put["SequenceNumber"]) == 56

    # boto3 sees the raw bytes: the CLI encoded them for the wire.
    it = kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0), ShardIteratorType="TRIM_HORIZON")
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=it["ShardIterator"])["Records"]] == [b"hello cli"]

    it = cli_json(cli("get-shard-iterator", "--stream-name", name, "--shard-id", shard_id(0),
                      "--shard-iterator-type", "AT_SEQUENCE_NUMBER",
                      "--starting-sequence-number", put["SequenceNumber"]))["ShardIterator"]
    recs = cli_json(cli("get-records", "--shard-iterator", it))
    assert len(recs["Records"]) == 1
    r = recs["Records"][0]
    assert base64.b64decode(r["Data"]) == b"hello cli"
    assert r["PartitionKey"] == "a"
    assert r["SequenceNumber"] == put["SequenceNumber"]
    assert "NextShardIterator" in recs and recs["MillisBehindLatest"] == 0

    names = cli_json(cli("list-streams"))
    assert name in names["StreamNames"]
    assert any(s["StreamName"] == name for s in names.get("StreamSummaries", []))

    shards = cli_json(cli("list-shards", "--stream-name", name))["Shards"]
    assert [s["ShardId"] for s in shards] == [shard_id(0), shard_id(1)]
    assert shards[1]["HashKeyRange"]["EndingHashKey"] == str(2**128 - 1)

    assert cli_json(cli("add-tags-to-stream", "--stream-name", name, "--tags", "team=rill,env=ci")) is None
    tags = cli_json(cli("list-tags-for-stream", "--stream-name", name))
    assert {t["Key"]: t["Value"] for t in tags["Tags"]} == {"team": "rill", "env": "ci"}
    assert tags["HasMoreTags"] is False

    assert cli_json(cli("delete-stream", "--stream-name", name)) is None
    proc = cli("wait", "stream-not-exists", "--stream-name", name)
    assert proc.returncode == 0, proc.stderr


def test_cli_put_record_binary_file_and_explicit_hash_key(cli, kinesis, stream4, tmp_path):
    # fileb:// sends the file's bytes unchanged.
    payload = bytes(range(256))
    f = tmp_path / "blob.bin"
    f.write_bytes(payload)
    put = cli_json(cli("put-record", "--stream-name", stream4, "--partition-key", "x", "--data", f"fileb://{f}",
                       "--explicit-hash-key", str(2**128 - 1)))
    assert put["ShardId"] == shard_id(3)
    it = kinesis.get_shard_iterator(StreamName=stream4, ShardId=shard_id(3), ShardIteratorType="TRIM_HORIZON")
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=it["ShardIterator"])["Records"]] == [payload]


def test_cli_put_records_and_paginated_list_shards(cli, kinesis):
    name = unique_name("cli-batch")
    cli_json(cli("create-stream", "--stream-name", name, "--shard-count", "3"))
    assert cli("wait", "stream-exists", "--stream-name", name).returncode == 0
    records = [{"Data": f"rec-{i}", "PartitionKey": f"pk-{i}"} for i in range(10)]
    out = cli_json(cli("put-records", "--stream-name", name, "--records", json.dumps(records)))
    assert out["FailedRecordCount"] == 0 and len(out["Records"]) == 10
    # (No --page-size: the CLI would resend --stream-name with the NextToken, which AWS rejects too.)
    shards = cli_json(cli("list-shards", "--stream-name", name))["Shards"]
    assert [s["ShardId"] for s in shards] == [shard_id(i) for i in range(3)]
    got = []
    for s in shards:
        it = kinesis.get_shard_iterator(StreamName=name, ShardId=s["ShardId"], ShardIteratorType="TRIM_HORIZON")
        got += [r["Data"] for r in kinesis.get_records(ShardIterator=it["ShardIterator"])["Records"]]
    assert sorted(got) == sorted(f"rec-{i}".encode() for i in range(10))


def test_cli_describe_stream_by_arn(cli, stream):
    d = cli_json(cli("describe-stream", "--stream-arn", stream_arn(stream)))["StreamDescription"]
    assert d["StreamName"] == stream and len(d["Shards"]) == 1


def test_cli_describe_missing_stream_fails(cli):
    name = unique_name("cli-missing")
    proc = cli("describe-stream", "--stream-name", name)
    assert proc.returncode != 0
    assert "ResourceNotFoundException" in proc.stderr
    assert f"Stream {name} under account {ACCOUNT} not found." in proc.stderr


def test_cli_create_duplicate_fails(cli, stream):
    proc = cli("create-stream", "--stream-name", stream, "--shard-count", "1")
    assert proc.returncode != 0
    assert "ResourceInUseException" in proc.stderr


def test_cli_retention_tags_limits_and_timestamps(cli, stream):
    assert cli_json(cli("increase-stream-retention-period", "--stream-name", stream,
                        "--retention-period-hours", "48")) is None
    summary = cli_json(cli("describe-stream-summary", "--stream-name", stream))["StreamDescriptionSummary"]
    assert summary["RetentionPeriodHours"] == 48
    assert cli_json(cli("decrease-stream-retention-period", "--stream-name", stream,
                        "--retention-period-hours", "24")) is None
    proc = cli("decrease-stream-retention-period", "--stream-name", stream, "--retention-period-hours", "12")
    assert proc.returncode != 0 and "InvalidArgumentException" in proc.stderr
    assert "Minimum allowed retention period is 24 hours." in proc.stderr

    cli_json(cli("add-tags-to-stream", "--stream-name", stream, "--tags", "a=1,b=2"))
    assert cli_json(cli("remove-tags-from-stream", "--stream-name", stream, "--tag-keys", "a")) is None
    assert cli_json(cli("list-tags-for-stream", "--stream-name", stream))["Tags"] == [{"Key": "b", "Value": "2"}]

    limits = cli_json(cli("describe-limits"))
    assert limits["ShardLimit"] > 0 and limits["OpenShardCount"] >= 1

    cli_json(cli("put-record", "--stream-name", stream, "--partition-key", "k", "--data", "ts"))
    it = cli_json(cli("get-shard-iterator", "--stream-name", stream, "--shard-id", shard_id(0),
                      "--shard-iterator-type", "AT_TIMESTAMP", "--timestamp", "2015-01-01T00:00:00Z"))["ShardIterator"]
    recs = cli_json(cli("get-records", "--shard-iterator", it, "--limit", "5"))["Records"]
    assert [base64.b64decode(r["Data"]) for r in recs] == [b"ts"]
