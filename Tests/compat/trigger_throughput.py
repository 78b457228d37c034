"""Records per second through `rill trigger` with a no-op Python handler (the figure in docs/consumers.md).

    python3 trigger_throughput.py ENDPOINT RILL_BIN [RECORDS] [SHARDS] [BATCH_SIZE]

Puts RECORDS small records into a new stream of SHARDS shards with `rill put`, then times one `rill trigger
--starting-position TRIM_HORIZON` from its start until the group's checkpoints reach every shard's last record."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import boto3

from groups_client import GroupsClient


def main() -> int:
    endpoint, rill = sys.argv[1:3]
    records = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
    shards = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    batch = sys.argv[5] if len(sys.argv) > 5 else "100"
    kinesis = boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
    stream = f"throughput-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=stream, ShardCount=shards)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2})
    lines = "".join(f"{n}\n" for n in range(records)).encode()
    subprocess.run([rill, "put", "--endpoint", endpoint, "--stream", stream], input=lines, check=True,
                   capture_output=True)
    last = {}
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10000)
            if page["Records"]:
                last[shard["ShardId"]] = page["Records"][-1]["SequenceNumber"]
            if not page["Records"] or page.get("MillisBehindLatest", 1) == 0:
                break
            iterator = page["NextShardIterator"]
    handler = os.path.join(tempfile.mkdtemp(), "noop.py")
    with open(handler, "w") as f:
        f.write("def handler(event, context):\n    return None\n")
    groups = GroupsClient(endpoint)
    began = time.monotonic()
    proc = subprocess.Popen([rill, "trigger", "--endpoint", endpoint, "--stream", stream, "--group", "bench",
                             "--handler", f"{handler}:handler", "--batch-size", batch,
                             "--starting-position", "TRIM_HORIZON"], stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                leases = groups.describe_group(stream, "bench")["Leases"]
            except Exception:
                leases = []
            done = {l["ShardId"]: l["Checkpoint"].get("SequenceNumber") for l in leases}
            if leases and all(done.get(shard) == seq for shard, seq in last.items()):
                break
            if time.monotonic() - began > 300:
                raise SystemExit("not done within 300 s")
            time.sleep(0.05)
        took = time.monotonic() - began
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    print(f"{records} records, {shards} shards, batch size {batch}: {took:.2f} s, {records / took:.0f} records/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
