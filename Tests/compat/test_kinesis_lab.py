"""examples/kinesis-lab/run, the classic Kinesis lab in one command, run as a user runs it: a text file dropped into
inbox/ reaches both consumer Lambda functions' logs within 2 s of the producer's PutRecords and the archive within
the buffer interval; a file still being written is not announced until it is closed; the aws CLI and CloudWatch's
GetMetricStatistics see the stream; SIGTERM stops everything the run started, leaving no process behind; a second
run on the same folder keeps the stream and the checkpoints, so only new lines are logged and archived."""

from __future__ import annotations

import datetime
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3

from conftest import REGION, cli_json, free_port_block, run_cli

LAB = Path(__file__).resolve().parents[2] / "examples" / "kinesis-lab"
STREAM = "whiz-data-stream"
BUFFER_INTERVAL = 3
# The archive writes a file once the buffer interval has passed since its first record; it reads, writes, fsyncs and
# renames within this much more.
ARCHIVE_SLACK = 3.0


class ProcessTree:
    """Every process ever seen below a root pid, with its command line, gathered from /proc at each look."""

    def __init__(self, root: int):
        self.root = root
        self.seen: dict[int, bytes] = {}

    def look(self) -> None:
        parents = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                # The command name is in parentheses and may hold spaces: the parent pid follows the last ")".
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
        below, frontier = set(), {self.root}
        while frontier:
            frontier = {pid for pid, parent in parents.items() if parent in frontier and pid not in below}
            below |= frontier
        for pid in below:
            if pid not in self.seen:
                try:
                    self.seen[pid] = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    pass

    def alive(self) -> list[str]:
        """The processes seen that still run (same pid, same command line: not a reused pid)."""
        left = []
        for pid, cmdline in self.seen.items():
            try:
                if Path(f"/proc/{pid}/cmdline").read_bytes() == cmdline and "Z" not in self._state(pid):
                    shown = cmdline.replace(b"\0", b" ").decode(errors="replace")
                    left.append(f"{pid}: {shown}")
            except OSError:
                continue
        return left

    @staticmethod
    def _state(pid: int) -> str:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def wait_for(condition, timeout: float, what: str, tree: ProcessTree, run: subprocess.Popen, log: Path):
    deadline = time.monotonic() + timeout
    while True:
        tree.look()
        assert run.poll() is None, f"the run exited ({run.returncode}) while waiting for {what}\n{tail(log)}"
        last = condition()
        if last:
            return last
        if time.monotonic() >= deadline:
            break
        time.sleep(0.02)
    raise AssertionError(f"{what} not within {timeout}s (last: {last})\n{tail(log)}")


def tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else f"({path} does not exist)"


def consumer_data(log: Path, number: int) -> list[str]:
    """The `data` of every record consumer #number logged, in order."""
    prefix = f"consumer #{number} "
    if not log.exists():
        return []
    return [json.loads(line[len(prefix):])["data"] for line in log.read_text().splitlines() if line.startswith(prefix)]


def producer_puts(log: Path, key: str) -> int:
    """How many records the producer logged as put for this object key."""
    if not log.exists():
        return 0
    total = 0
    for line in log.read_text().splitlines():
        if line.startswith("{\"put\""):
            put = json.loads(line)
            if put["PartitionKey"] == key:
                total += put["put"]
    return total


def archived(archive: Path) -> tuple[list[str], list[str]]:
    """Every record's `data` in the archive's objects (newline-delimited JSON), and the objects' relative paths.
    The archiver's staging folder (hidden, objects being written) is not part of the archive."""
    data, files = [], []
    for path in sorted(p for p in archive.rglob("*") if p.is_file()):
        relative = path.relative_to(archive).as_posix()
        if any(part.startswith(".") for part in relative.split("/")):
            continue
        files.append(relative)
        for line in path.read_text().splitlines():
            if line:
                data.append(json.loads(line)["data"])
    return data, files


class LabRun:
    """examples/kinesis-lab/run started on a work folder, its output in a log; every process below it is tracked."""

    def __init__(self, rill_bin: Path, work: Path, port: int, peer_port: int, log: Path):
        self.log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, str(LAB / "run"), "--work-dir", str(work), "--port", str(port), "--peer-port",
                 str(peer_port), "--buffer-interval", str(BUFFER_INTERVAL)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, "RILL": str(rill_bin)})
        self.tree = ProcessTree(self.process.pid)

    def wait_for(self, condition, timeout: float, what: str):
        return wait_for(condition, timeout, what, self.tree, self.process, self.log)

    def stop(self) -> None:
        """SIGTERM: exit 0, and nothing seen below the run still running."""
        self.tree.look()
        assert len(self.tree.seen) >= 8, f"expected the cluster, triggers, archive and watcher: {self.tree.seen}"
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=120)
        output = self.log.read_text()
        assert code == 0, f"the run exited {code} on SIGTERM\n{output[-3000:]}"
        assert "stopped" in output.splitlines()[-1], output[-3000:]
        assert self.tree.alive() == [], f"processes left after the run stopped: {self.tree.alive()}"

    def abandon(self) -> None:
        """After a failure: stop the run, and end by pid whatever it left behind."""
        self.tree.look()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=120)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            for line in self.tree.alive():
                os.kill(int(line.split(":")[0]), signal.SIGKILL)


def test_kinesis_lab_runs_end_to_end_stops_clean_and_resumes(rill_bin, tmp_path):
    work = tmp_path / "lab"
    port, peer_port = free_port_block(), free_port_block()
    endpoint = f"http://127.0.0.1:{port}"
    logs, inbox, archive = work / "logs", work / "inbox", work / "archive"
    lab = LabRun(rill_bin, work, port, peer_port, tmp_path / "run.log")
    log, wait = lab.log, lab.wait_for
    try:
        wait(lambda: "kinesis lab is running" in log.read_text(), 120, "the lab's banner")
        assert f"{endpoint}/console" in log.read_text()

        # A file still being written: half of it now, the file left open.
        run_id = uuid.uuid4().hex[:8]
        slow_lines = [f"slow {run_id} line {i}" for i in range(20)]
        slow = open(inbox / "slow.txt", "w")
        slow.write("\n".join(slow_lines[:10]) + "\n")
        slow.flush()

        # The upload: written whole, closed.
        lines = [f"{run_id} line {i}: {'x' * (i % 7)}" for i in range(50)]
        (inbox / "upload.txt").write_text("\n".join(lines) + "\n")
        put_at = wait(lambda: producer_puts(logs / "producer.log", "upload.txt") == len(lines) and time.monotonic(),
                          30, "the producer's PutRecords of upload.txt")

        def both_consumers_have(expected):
            return all(set(expected) <= set(consumer_data(logs / f"consumer{n}.log", n)) for n in (1, 2))

        seen_at = wait(lambda: both_consumers_have(lines) and time.monotonic(), 10,
                           "both consumers logging every line")
        assert seen_at - put_at <= 2.0, f"consumers logged the lines {seen_at - put_at:.2f} s after the put"
        # Each consumer saw the lines in order (one partition key: one shard) and logged the event it was given.
        for n in (1, 2):
            data = consumer_data(logs / f"consumer{n}.log", n)
            assert [d for d in data if d in lines] == lines, f"consumer{n} logged the lines out of order"
            events = [json.loads(line) for line in (logs / f"consumer{n}.log").read_text().splitlines()
                      if line.startswith("{\"Records\"")]
            assert events and all(r["eventSource"] == "aws:kinesis" and r["eventSourceARN"].endswith(f"/{STREAM}")
                                  and r["kinesis"]["partitionKey"] == "upload.txt"
                                  for e in events for r in e["Records"])

        # The slow file was not announced while open (upload.txt, written after it, already went all the way).
        assert producer_puts(logs / "producer.log", "slow.txt") == 0
        assert "slow.txt" not in (logs / "producer.log").read_text()
        slow.write("\n".join(slow_lines[10:]) + "\n")
        slow.close()
        wait(lambda: both_consumers_have(slow_lines), 30, "both consumers logging the slow file")
        events = [json.loads(line) for line in (logs / "producer.log").read_text().splitlines()
                  if line.startswith("{\"Records\"")]
        slow_events = [e["Records"][0]["s3"] for e in events if e["Records"][0]["s3"]["object"]["key"] == "slow.txt"]
        assert len(slow_events) == 1, slow_events
        assert slow_events[0]["object"]["size"] == len("\n".join(slow_lines) + "\n")

        # The aws CLI and CloudWatch see the lab's stream as the README shows.
        summary = cli_json(run_cli(endpoint, "describe-stream-summary", "--stream-name", STREAM))
        summary = summary["StreamDescriptionSummary"]
        assert (summary["OpenShardCount"], summary["StreamModeDetails"]["StreamMode"]) == (1, "PROVISIONED")
        assert (summary["EncryptionType"], summary["KeyId"]) == ("KMS", "alias/aws/kinesis")
        cloudwatch = boto3.client("cloudwatch", endpoint_url=endpoint, region_name=REGION,
                                  aws_access_key_id="lab", aws_secret_access_key="lab")
        now = datetime.datetime.now(datetime.timezone.utc)

        def incoming_records():
            points = cloudwatch.get_metric_statistics(
                Namespace="AWS/Kinesis", MetricName="IncomingRecords",
                Dimensions=[{"Name": "StreamName", "Value": STREAM}], Statistics=["Sum"], Period=60,
                StartTime=now - datetime.timedelta(minutes=10), EndTime=now + datetime.timedelta(minutes=5))
            return sum(p["Sum"] for p in points["Datapoints"])

        assert wait(lambda: incoming_records() >= len(lines) + len(slow_lines), 10,
                        "IncomingRecords counting the lab's records")

        # The archive: every line of upload.txt within the buffer interval of the put, under YYYY/MM/DD/HH/.
        archive_deadline = put_at + BUFFER_INTERVAL + ARCHIVE_SLACK
        wait(lambda: set(lines) <= set(archived(archive)[0]), archive_deadline - time.monotonic(),
                 "the archive holding upload.txt's lines")
        data, files = archived(archive)
        hour = re.compile(r"^\d{4}/\d{2}/\d{2}/\d{2}/[^/]+$")
        assert files and all(hour.match(f) for f in files), files
        assert [d for d in data if d in lines] == lines, "the archive holds upload.txt's lines out of order or twice"
    except BaseException:
        lab.abandon()
        raise
    lab.stop()

    # Run again on the same folder: the stream, its records and the consumers' checkpoints are kept, so only the
    # new file's lines are logged, and the consumers and the archive start where they stopped.
    logged_before = {n: len(consumer_data(logs / f"consumer{n}.log", n)) for n in (1, 2)}
    lab = LabRun(rill_bin, work, port, peer_port, tmp_path / "run-again.log")
    log, wait = lab.log, lab.wait_for
    try:
        wait(lambda: "kinesis lab is running" in log.read_text(), 120, "the lab's banner, again")
        again = [f"{run_id} again {i}" for i in range(5)]
        (inbox / "again.txt").write_text("\n".join(again) + "\n")
        wait(lambda: both_consumers_have(again), 10, "both consumers logging the new file")
        for n in (1, 2):
            assert consumer_data(logs / f"consumer{n}.log", n)[logged_before[n]:] == again, f"consumer{n}"
        wait(lambda: set(again) <= set(archived(archive)[0]), BUFFER_INTERVAL + 10, "the archive holding again.txt")
        data = archived(archive)[0]
        assert sorted(data) == sorted(lines + slow_lines + again), "the archive holds a record twice or lost one"
    except BaseException:
        lab.abandon()
        raise
    lab.stop()
