"""`rill tail --group` (docs/cli.md, docs/consumers.md): rill tail as a worker of a consumer group. Real `rill tail`
processes against a real node, records put with boto3 and `rill put`: a second tail of the group prints exactly
what the first did not, two tails at once split the shards and print every record once, a stopped tail releases
its shards to a new one (SIGTERM or SIGINT), after kill -9 the next tail starts at the dead one's last checkpoint,
children are read only after their parent is finished, and `rill status` shows the
group."""

from __future__ import annotations

import base64
import json
import signal
import subprocess
from collections import defaultdict
from pathlib import Path

from conftest import create_stream, shard_id, wait_active, wait_for
from groups_client import GroupsClient

MID = str(2**127)


def run_tail(rill_bin, rill, stream: str, group: str, *args: str, timeout: float = 60.0) -> list[bytes]:
    proc = subprocess.run([str(rill_bin), "tail", "--endpoint", rill.endpoint, "--stream", stream, "--group", group,
                           *args], capture_output=True, timeout=timeout)
    assert proc.returncode == 0, f"rill tail failed ({proc.returncode}):\n{proc.stderr.decode()}"
    return proc.stdout.splitlines()


def start_tail(rill_bin, rill, stream: str, group: str, *args: str, out: Path) -> subprocess.Popen:
    stdout = open(out, "wb")
    proc = subprocess.Popen([str(rill_bin), "tail", "--endpoint", rill.endpoint, "--stream", stream, "--group",
                             group, *args], stdout=stdout, stderr=open(str(out) + ".err", "wb"))
    stdout.close()
    return proc


def stop(proc: subprocess.Popen, out: Path, how: int = signal.SIGTERM) -> str:
    if proc.poll() is None:
        proc.send_signal(how)
    try:
        code = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
        raise AssertionError("rill tail --group did not stop within 30 s of SIGTERM")
    log = Path(str(out) + ".err").read_text()
    assert code == 0, log
    return log


def owners(rill, stream: str, group: str) -> dict[str, str]:
    """Shard → owner of every held lease."""
    leases = GroupsClient(rill.endpoint).describe_group(stream, group)["Leases"]
    return {lease["ShardId"]: lease["Owner"] for lease in leases if lease.get("Held")}


def working(out: Path) -> set[str]:
    """The shards a tail works, from its log: leases taken, less those lost or finished since."""
    shards: set[str] = set()
    for line in Path(str(out) + ".err").read_text().splitlines():
        parts = line.split(": ")
        if len(parts) >= 3 and parts[1].startswith("shardId-"):
            if parts[2].startswith("lease taken"):
                shards.add(parts[1])
            elif parts[2].startswith(("lease lost", "finished")):
                shards.discard(parts[1])
    return shards


def put_lines(kinesis, stream: str, lines: list[str]) -> None:
    for start in range(0, len(lines), 100):
        chunk = lines[start:start + 100]
        answer = kinesis.put_records(StreamName=stream, Records=[
            {"Data": line.encode(), "PartitionKey": f"k{start + i}"} for i, line in enumerate(chunk)])
        assert answer["FailedRecordCount"] == 0


def test_a_second_tail_of_the_group_prints_exactly_the_rest(rill_bin, rill, kinesis):
    """One shard: the first tail prints the first K lines in order, the second the other N-K, none twice."""
    stream = create_stream(kinesis, shards=1)
    lines = [f"line {i}" for i in range(250)]
    put_lines(kinesis, stream, lines)
    first = run_tail(rill_bin, rill, stream, "g", "--from", "trim-horizon", "--max-records", "90")
    assert [line.decode() for line in first] == lines[:90]
    # Its leases are released on the way out: the next tail takes the shard at once, from the checkpoint.
    assert owners(rill, stream, "g") == {}
    second = run_tail(rill_bin, rill, stream, "g", "--from", "trim-horizon", "--max-records", "160")
    assert [line.decode() for line in second] == lines[90:]
    # Nothing left: a third tail waits for new records.
    assert run_tail(rill_bin, rill, stream, "g", "--idle-exit", "1.5") == []
    # Another group starts from its own position.
    assert [line.decode() for line in
            run_tail(rill_bin, rill, stream, "other", "--from", "trim-horizon", "--max-records", "250")] == lines


def test_the_rest_comes_once_across_several_shards(rill_bin, rill, kinesis):
    stream = create_stream(kinesis, shards=3)
    lines = [f"n{i}" for i in range(600)]
    put_lines(kinesis, stream, lines)
    first = run_tail(rill_bin, rill, stream, "g", "--from", "trim-horizon", "--max-records", "250")
    assert len(first) == 250
    second = run_tail(rill_bin, rill, stream, "g", "--from", "trim-horizon", "--max-records", "350")
    assert len(second) == 350
    assert sorted(line.decode() for line in first + second) == sorted(lines)


def test_two_tails_share_the_shards_and_print_every_record_once(rill_bin, rill, kinesis, tmp_path):
    stream = create_stream(kinesis, shards=4)
    GroupsClient(rill.endpoint).create_group(stream, "pair", failover_ms=3000,
                                             position={"Type": "TRIM_HORIZON"})
    outs = [tmp_path / "a.out", tmp_path / "b.out"]
    procs = [start_tail(rill_bin, rill, stream, "pair", "--json", "--from", "trim-horizon", "--worker-id", name,
                        out=out) for name, out in zip(("a", "b"), outs)]

    def balanced() -> bool:
        # Each takes its fair share (the second steals from the first, one lease a round), and the one stolen from
        # has noticed at its next round.
        held = owners(rill, stream, "pair")
        return sorted(held.values()) == ["a", "a", "b", "b"] and all(
            working(out) == {shard for shard, owner in held.items() if owner == name}
            for name, out in zip(("a", "b"), outs))

    try:
        wait_for(balanced, 30, "two leases each")
        lines = [f"r{i}" for i in range(800)]
        put_lines(kinesis, stream, lines)
        printed = lambda: sum(len(out.read_bytes().splitlines()) for out in outs)
        wait_for(lambda: printed() >= len(lines), 30, "every record printed")
        held = owners(rill, stream, "pair")
    finally:
        logs = [stop(proc, out, how) for proc, out, how in zip(procs, outs, (signal.SIGTERM, signal.SIGINT))]
    events = {name: [json.loads(line) for line in out.read_bytes().splitlines()]
              for name, out in zip(("a", "b"), outs)}
    both = [base64.b64decode(e["data"]).decode() for name in events for e in events[name]]
    assert sorted(both) == sorted(lines), "every record printed once, by one of the two"
    for name, printed_events in events.items():
        shards = {e["shardId"] for e in printed_events}
        assert shards == {shard for shard, owner in held.items() if owner == name}, (name, shards, held)
    for log in logs:
        assert "lease taken" in log and "stopping" in log, log
    # Both released their leases; checkpoints sit at each shard's last record.
    assert owners(rill, stream, "pair") == {}
    # `rill status` shows the group, a row per shard.
    shown = subprocess.run([str(rill_bin), "status", "--endpoint", rill.endpoint], capture_output=True, text=True,
                           timeout=30)
    assert shown.returncode == 0, shown.stderr
    rows = [line for line in shown.stdout.splitlines() if line.startswith(f"{stream}/pair")]
    assert len(rows) == 4 and all("INITIAL" not in row for row in rows), shown.stdout
    # A tail started after both stopped prints only what came after.
    later = [f"later {i}" for i in range(40)]
    put_lines(kinesis, stream, later)
    again = run_tail(rill_bin, rill, stream, "pair", "--max-records", "40")
    assert sorted(line.decode() for line in again) == sorted(later)


def test_children_are_read_after_their_parent_is_finished(rill_bin, rill, kinesis):
    stream = create_stream(kinesis, shards=1)
    before, after = 30, 50
    for i in range(before):
        kinesis.put_record(StreamName=stream, PartitionKey=f"k{i % 8}", Data=f"{i}".encode())
    kinesis.split_shard(StreamName=stream, ShardToSplit=shard_id(0), NewStartingHashKey=MID)
    wait_active(kinesis, stream)
    for i in range(before, before + after):
        kinesis.put_record(StreamName=stream, PartitionKey=f"k{i % 8}", Data=f"{i}".encode())
    events = [json.loads(line) for line in run_tail(rill_bin, rill, stream, "g", "--from", "trim-horizon", "--json",
                                                    "--max-records", str(before + after))]
    numbers = [int(base64.b64decode(e["data"])) for e in events]
    assert sorted(numbers) == list(range(before + after))
    last_parent = max(i for i, e in enumerate(events) if e["shardId"] == shard_id(0))
    first_child = min(i for i, e in enumerate(events) if e["shardId"] != shard_id(0))
    assert last_parent < first_child, "a child was read before its parent was finished"
    by_key = defaultdict(list)
    for e, n in zip(events, numbers):
        by_key[e["partitionKey"]].append(n)
    assert all(seen == sorted(seen) for seen in by_key.values())
    checkpoints = {lease["ShardId"]: lease["Checkpoint"]["Type"]
                   for lease in GroupsClient(rill.endpoint).describe_group(stream, "g")["Leases"]}
    assert checkpoints[shard_id(0)] == "SHARD_END", checkpoints


def test_a_group_and_worker_id_are_checked(rill_bin, rill, kinesis):
    stream = create_stream(kinesis, shards=1)
    proc = subprocess.run([str(rill_bin), "tail", "--endpoint", rill.endpoint, "--stream", stream, "--worker-id",
                           "w"], capture_output=True, timeout=30)
    assert proc.returncode != 0 and b"--worker-id needs --group" in proc.stderr
    proc = subprocess.run([str(rill_bin), "tail", "--endpoint", rill.endpoint, "--stream", stream, "--group",
                           "bad name!"], capture_output=True, timeout=30)
    assert proc.returncode == 1 and b"cannot join group" in proc.stderr, proc.stderr


def test_after_kill_9_the_group_goes_on_from_the_last_checkpoint(rill_bin, rill, kinesis, tmp_path):
    """A tail killed with SIGKILL keeps its lease until the failover time; then the next tail of the group starts
    after the dead one's last checkpoint."""
    stream = create_stream(kinesis, shards=2)
    groups = GroupsClient(rill.endpoint)
    groups.create_group(stream, "g", failover_ms=2000, position={"Type": "TRIM_HORIZON"})
    out = tmp_path / "killed.out"
    proc = start_tail(rill_bin, rill, stream, "g", "--from", "trim-horizon", out=out)
    first = [f"a{i}" for i in range(200)]
    try:
        put_lines(kinesis, stream, first)
        wait_for(lambda: len(out.read_bytes().splitlines()) >= len(first), 30, "every record printed")
        last = {}
        for shard in ("shardId-000000000000", "shardId-000000000001"):
            records = kinesis.get_records(ShardIterator=kinesis.get_shard_iterator(
                StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"])["Records"]
            last[shard] = records[-1]["SequenceNumber"]
        checkpoints = lambda: {lease["ShardId"]: lease["Checkpoint"].get("SequenceNumber")
                               for lease in groups.describe_group(stream, "g")["Leases"]}
        wait_for(lambda: checkpoints() == last, 15, "the printed records checkpointed")
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert sorted(line.decode() for line in out.read_bytes().splitlines()) == sorted(first)
    second = [f"b{i}" for i in range(60)]
    put_lines(kinesis, stream, second)
    # The dead tail's leases expire after 2 s; the new tail takes them then.
    again = run_tail(rill_bin, rill, stream, "g", "--max-records", "60")
    assert sorted(line.decode() for line in again) == sorted(second)
