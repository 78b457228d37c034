"""A consumer-group worker as a separate process, for the tests that kill one with a signal.

    python3 group_worker.py ENDPOINT STREAM GROUP WORKER_ID STATE_FILE

Every quarter of the group's failover time it renews its leases (a refusal means the lease is lost), asks for its
share (AcquireLeases), reads each leased shard from its checkpoint with boto3 and checkpoints the last record it
read with the lease's token. After each round it writes what it holds to STATE_FILE (JSON, replaced atomically).
SIGTERM releases its leases and exits; SIGKILL leaves them to expire."""

from __future__ import annotations

import json
import os
import signal
import sys
import time

import boto3
from botocore.config import Config

from groups_client import GroupError, GroupsClient

LOST = {"ResourceInUseException", "ResourceNotFoundException"}


def main() -> int:
    endpoint, stream, group, worker, state_path = sys.argv[1:6]
    groups = GroupsClient(endpoint)
    kinesis = boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                           config=Config(retries={"max_attempts": 3}, connect_timeout=5, read_timeout=20))
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    held: dict[str, int] = {}
    positions: dict[str, str] = {}
    rounds = 0
    interval = 1.0
    while not stopping:
        for shard, token in list(held.items()):
            try:
                groups.renew(stream, group, worker, shard, token)
            except GroupError as error:
                if error.code not in LOST:
                    raise
                held.pop(shard)
        leases = groups.call("AcquireLeases", StreamName=stream, GroupName=group, WorkerId=worker)
        interval = leases["FailoverTimeMillis"] / 4000
        held = {lease["ShardId"]: lease["LeaseToken"] for lease in leases["Leases"]}
        for lease in leases["Leases"]:
            shard = lease["ShardId"]
            checkpoint = lease["Checkpoint"]
            if checkpoint["Type"] == "AT_SEQUENCE_NUMBER":
                iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard,
                                                      ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                                      StartingSequenceNumber=checkpoint["SequenceNumber"])
            else:
                iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard,
                                                      ShardIteratorType="TRIM_HORIZON")
            records = kinesis.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"]
            if not records:
                continue
            try:
                groups.checkpoint(stream, group, worker, shard, held[shard], records[-1]["SequenceNumber"])
                positions[shard] = records[-1]["SequenceNumber"]
            except GroupError as error:
                if error.code not in LOST:
                    raise
                held.pop(shard, None)
        rounds += 1
        write_state(state_path, {"worker": worker, "pid": os.getpid(), "rounds": rounds, "leases": held,
                                 "checkpoints": positions})
        deadline = time.monotonic() + interval
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.05)
    for shard, token in held.items():
        try:
            groups.release(stream, group, worker, shard, token)
        except GroupError as error:
            if error.code not in LOST:
                raise
    write_state(state_path, {"worker": worker, "pid": os.getpid(), "rounds": rounds, "leases": {},
                             "released": True, "checkpoints": positions})
    return 0


def write_state(path: str, state: dict) -> None:
    temporary = path + ".tmp"
    with open(temporary, "w") as f:
        json.dump(state, f)
    os.replace(temporary, path)


if __name__ == "__main__":
    sys.exit(main())
