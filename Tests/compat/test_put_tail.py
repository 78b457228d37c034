"""`rill put` and `rill tail` (issue 18, items 3 and 4) against a real node, checked with boto3 and with the
`aws-kinesis-agg` module from PyPI (KPL aggregation, both directions)."""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections import defaultdict

import pytest

from aws_kinesis_agg.aggregator import RecordAggregator
from aws_kinesis_agg.deaggregator import deaggregate_records

from conftest import create_stream, list_all_shards, md5_hash_key, read_shard, shard_for_hash, shard_id, wait_active

MID = str(2**127)


def run_rill(rill_bin, *args: str, stdin: bytes = b"", timeout: float = 60.0) -> subprocess.CompletedProcess:
    return subprocess.run([str(rill_bin), *args], input=stdin, capture_output=True, timeout=timeout)


def put(rill_bin, rill, stream: str, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    proc = run_rill(rill_bin, "put", "--endpoint", rill.endpoint, "--stream", stream, *args, stdin=stdin)
    assert proc.returncode == 0, f"rill put failed ({proc.returncode}):\n{proc.stderr.decode()}"
    return proc


def tail(rill_bin, rill, stream: str, *args: str, timeout: float = 60.0) -> list[bytes]:
    proc = run_rill(rill_bin, "tail", "--endpoint", rill.endpoint, "--stream", stream, *args, timeout=timeout)
    assert proc.returncode == 0, f"rill tail failed ({proc.returncode}):\n{proc.stderr.decode()}"
    return proc.stdout.splitlines()


def read_all(kinesis, stream: str) -> list[dict]:
    records = []
    for shard in list_all_shards(kinesis, stream):
        for record in read_shard(kinesis, stream, shard["ShardId"]):
            record["_shard"] = shard["ShardId"]
            records.append(record)
    return records


def test_put_lines_keep_order_per_key(rill_bin, rill, kinesis):
    """JSON lines keyed by a field: every line arrives once, and each key's lines in input order."""
    name = create_stream(kinesis, shards=4)
    lines = [json.dumps({"user": {"id": f"u{i % 13}"}, "n": i}) for i in range(2000)]
    proc = put(rill_bin, rill, name, "--partition-key-field", "user.id", "--linger", "5",
               stdin=("\n".join(lines) + "\n").encode())
    assert b"2000 of 2000 records written" in proc.stderr, proc.stderr.decode()
    records = read_all(kinesis, name)
    assert len(records) == 2000
    by_key = defaultdict(list)
    for record in records:
        body = json.loads(record["Data"])
        assert record["PartitionKey"] == body["user"]["id"]
        by_key[record["PartitionKey"]].append(body["n"])
    assert len(by_key) == 13
    for key, numbers in by_key.items():
        assert numbers == sorted(numbers), f"{key} out of order"


def test_put_retries_throttled_records_in_key_order(rill_bin, server_factory):
    """A node enforcing 1,000 records/s per shard fails part of each PutRecords: rill put resends only the failed
    records, and each key's records still land in input order."""
    node = server_factory(extra_args=["--throughput-limits"]).start()
    try:
        kinesis = node.client()
        name = create_stream(kinesis, shards=1)
        lines = [json.dumps({"k": i % 20, "i": i, "pad": "x" * 200}) for i in range(3000)]
        proc = run_rill(rill_bin, "put", "--endpoint", node.endpoint, "--stream", name, "--partition-key", "{json:k}",
                        "--linger", "5", stdin=("\n".join(lines) + "\n").encode(), timeout=120)
        assert proc.returncode == 0, proc.stderr.decode()
        summary = proc.stderr.decode()
        assert "3000 of 3000 records written" in summary, summary
        retries = int(summary.split(" retries")[0].rsplit(" ", 1)[1])
        assert retries > 0, f"no record was throttled: {summary}"
        by_key = defaultdict(list)
        for record in read_shard(kinesis, name, shard_id(0)):
            body = json.loads(record["Data"])
            by_key[body["k"]].append(body["i"])
        assert sum(len(v) for v in by_key.values()) == 3000
        for key, seen in by_key.items():
            assert seen == sorted(seen), f"key {key} out of order"
    finally:
        node.stop()


def test_put_files_whole_and_templates(rill_bin, rill, kinesis, tmp_path):
    name = create_stream(kinesis, shards=1)
    files = []
    for i in range(3):
        path = tmp_path / f"f{i}.txt"
        path.write_bytes(f"file {i}\nsecond line\n".encode())
        files.append(str(path))
    put(rill_bin, rill, name, "--whole-file", "--partition-key", "{file}#{n}", *files)
    records = read_shard(kinesis, name, shard_id(0))
    assert [r["Data"] for r in records] == [f"file {i}\nsecond line\n".encode() for i in range(3)]
    assert [r["PartitionKey"] for r in records] == [f"{f}#{i}" for i, f in enumerate(files)]


def test_put_then_tail_prints_the_same_lines(rill_bin, rill, kinesis):
    name = create_stream(kinesis, shards=1)
    lines = [f"line {i}" for i in range(300)]
    put(rill_bin, rill, name, "--partition-key", "k-{n}", stdin=("\n".join(lines) + "\n").encode())
    out = tail(rill_bin, rill, name, "--from", "trim-horizon", "--max-records", "300")
    assert [line.decode() for line in out] == lines


def test_put_to_missing_stream_fails_with_a_count(rill_bin, rill):
    proc = run_rill(rill_bin, "put", "--endpoint", rill.endpoint, "--stream", "no-such-stream-xyz", stdin=b"a\nb\n")
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert "ResourceNotFoundException" in err, err
    assert "2 records failed" in err, err


def test_tail_idle_exit_on_an_empty_stream(rill_bin, rill, kinesis):
    name = create_stream(kinesis, shards=2)
    start = time.monotonic()
    assert tail(rill_bin, rill, name, "--from", "trim-horizon", "--idle-exit", "1") == []
    assert time.monotonic() - start < 30


def test_tail_json_follows_children_across_a_split(rill_bin, rill, kinesis):
    """Records put by boto3 before and after a SplitShard made while tailing: all seen, children followed,
    each key's records in order, and no child record before its parent's last."""
    name = create_stream(kinesis, shards=1)
    before, after = 40, 60
    proc = subprocess.Popen(
        [str(rill_bin), "tail", "--endpoint", rill.endpoint, "--stream", name, "--from", "trim-horizon", "--json",
         "--max-records", str(before + after)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for i in range(before):
            kinesis.put_record(StreamName=name, PartitionKey=f"k{i % 8}", Data=f"{i}".encode())
        kinesis.split_shard(StreamName=name, ShardToSplit=shard_id(0), NewStartingHashKey=MID)
        wait_active(kinesis, name)
        for i in range(before, before + after):
            kinesis.put_record(StreamName=name, PartitionKey=f"k{i % 8}", Data=f"{i}".encode())
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err.decode()
    events = [json.loads(line) for line in out.splitlines()]
    assert len(events) == before + after
    numbers = [int(base64.b64decode(e["data"])) for e in events]
    assert sorted(numbers) == list(range(before + after))
    assert {e["shardId"] for e in events} >= {shard_id(0)}
    assert {e["shardId"] for e in events} & {shard_id(1), shard_id(2)}, "children were not followed"
    by_key = defaultdict(list)
    for e, n in zip(events, numbers):
        by_key[e["partitionKey"]].append(n)
        assert {"sequenceNumber", "approximateArrivalTimestamp", "shardId"} <= e.keys()
    for key, seen in by_key.items():
        assert seen == sorted(seen), f"{key} out of order: {seen}"
    last_parent = max(i for i, e in enumerate(events) if e["shardId"] == shard_id(0))
    first_child = min(i for i, e in enumerate(events) if e["shardId"] != shard_id(0))
    assert last_parent < first_child


def test_tail_reads_a_merged_child_after_both_parents(rill_bin, rill, kinesis):
    name = create_stream(kinesis, shards=2)
    keys = [f"k{i}" for i in range(12)]
    for i in range(30):
        kinesis.put_record(StreamName=name, PartitionKey=keys[i % 12], Data=f"{i}".encode())
    kinesis.merge_shards(StreamName=name, ShardToMerge=shard_id(0), AdjacentShardToMerge=shard_id(1))
    wait_active(kinesis, name)
    for i in range(30, 60):
        kinesis.put_record(StreamName=name, PartitionKey=keys[i % 12], Data=f"{i}".encode())
    events = [json.loads(line) for line in
              tail(rill_bin, rill, name, "--from", "trim-horizon", "--json", "--max-records", "60")]
    assert sorted(int(base64.b64decode(e["data"])) for e in events) == list(range(60))
    child_positions = [i for i, e in enumerate(events) if e["shardId"] == shard_id(2)]
    parent_positions = [i for i, e in enumerate(events) if e["shardId"] in (shard_id(0), shard_id(1))]
    assert child_positions and parent_positions
    assert max(parent_positions) < min(child_positions), "the merged child was read before a parent was finished"


def test_tail_deaggregates_aws_kinesis_agg_records(rill_bin, rill, kinesis):
    name = create_stream(kinesis, shards=1)
    aggregator = RecordAggregator()
    users = [(f"pk-{i % 5}", f"user record {i}".encode()) for i in range(25)]
    for key, data in users:
        assert aggregator.add_user_record(key, data) is None
    pk, ehk, data = aggregator.clear_and_get().get_contents()
    kinesis.put_record(StreamName=name, PartitionKey=pk, ExplicitHashKey=ehk, Data=data) if ehk else \
        kinesis.put_record(StreamName=name, PartitionKey=pk, Data=data)
    kinesis.put_record(StreamName=name, PartitionKey="plain", Data=b"not aggregated")
    events = [json.loads(line) for line in tail(rill_bin, rill, name, "--from", "trim-horizon", "--json", "--max-records", "26")]
    assert [(e["partitionKey"], base64.b64decode(e["data"])) for e in events[:25]] == users
    assert [e["subSequenceNumber"] for e in events[:25]] == list(range(25))
    assert len({e["sequenceNumber"] for e in events[:25]}) == 1
    assert "subSequenceNumber" not in events[25] and base64.b64decode(events[25]["data"]) == b"not aggregated"


def test_put_aggregate_is_deaggregated_by_aws_kinesis_agg(rill_bin, rill, kinesis):
    name = create_stream(kinesis, shards=2)
    proc = put(rill_bin, rill, name, "--aggregate", "--partition-key", "key-{json:k}",
               stdin=("\n".join(json.dumps({"k": i % 9, "i": i}) for i in range(1500)) + "\n").encode())
    assert b"aggregated" in proc.stderr, proc.stderr.decode()
    raw = read_all(kinesis, name)
    assert len(raw) < 1500 / 10, f"{len(raw)} Kinesis records for 1500 user records"
    shards = {s["ShardId"]: s for s in list_all_shards(kinesis, name)}
    users = deaggregate_records(raw_to_lambda(raw))
    assert len(users) == 1500
    by_key = defaultdict(list)
    for user in users:
        body = json.loads(base64.b64decode(user["kinesis"]["data"]))
        assert user["kinesis"]["partitionKey"] == f"key-{body['k']}"
        by_key[body["k"]].append(body["i"])
    for key, seen in by_key.items():
        assert seen == sorted(seen), f"{key} out of order"
    assert len(shards) == 2
    # Every user record sits on the shard its own partition key hashes to, as with the KPL.
    for record in raw:
        for user in deaggregate_records(raw_to_lambda([record])):
            assert shard_for_hash(list(shards.values()), md5_hash_key(user["kinesis"]["partitionKey"])) == record["_shard"]


def raw_to_lambda(records: list[dict]) -> list[dict]:
    """boto3 GetRecords records in the Lambda event shape aws_kinesis_agg's deaggregator reads."""
    return [{"kinesis": {"kinesisSchemaVersion": "1.0", "sequenceNumber": r["SequenceNumber"],
                         "partitionKey": r["PartitionKey"], "approximateArrivalTimestamp": 0,
                         "data": base64.b64encode(r["Data"]).decode()}} for r in records]


@pytest.mark.parametrize("command", ["put", "tail"])
def test_cli_doc_matches_help(rill_bin, command):
    """docs/cli.md and `rill put|tail --help` list the same flags, both ways."""
    import re
    from pathlib import Path
    text = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()
    section = re.search(rf"^## rill {command}\n(.*?)(?=^## |\Z)", text, re.S | re.M).group(1)
    documented = set(re.findall(r"^\| `(--[a-z0-9-]+)`", section, re.M))
    for sentence in re.findall(r"also takes (.*?)(?:\n\n|$)", section, re.S):
        documented |= set(re.findall(r"`(--[a-z0-9-]+)`", sentence))
    out = run_rill(rill_bin, command, "--help").stdout.decode()
    offered = set(re.findall(r"^\s+(?:-\w, )?(--[a-z0-9-]+)", out, re.M)) - {"--help"}
    # ArgumentParser prints an inverted pair as `--lines/--whole-file`.
    offered |= set(re.findall(r"^\s+--[a-z0-9-]+/(--[a-z0-9-]+)", out, re.M))
    assert offered == documented
