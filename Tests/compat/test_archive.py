"""`rill archive` (docs/archive.md): what Firehose does to S3, delivered to a folder. Real `rill archive` processes
against the shared node, records put with boto3 (KPL aggregates with aws-kinesis-agg): killed -9 twice under
continuous puts, the objects under YYYY/MM/DD/HH/ hold every acknowledged record exactly once; GZIP objects pass
`gzip -t` and respect the size hint; the interval hint; a folder that refuses objects sends them to the error
output as Firehose's error records."""

from __future__ import annotations

import base64
import gzip
import json
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

from aws_kinesis_agg.aggregator import RecordAggregator

from conftest import create_stream, wait_for

NAME = re.compile(r"^(?P<stream>.+)-1-(\d{4})-(\d{2})-(\d{2})-(\d{2})-\d{2}-\d{2}-"
                  r"[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}(\.gz)?$")


def start_archive(rill_bin, rill, stream: str, group: str, to: Path, *args: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen([str(rill_bin), "archive", "--endpoint", rill.endpoint, "--stream", stream,
                             "--group", group, "--to", str(to), "--report-interval", "1", *args],
                            stdout=open(str(log) + ".out", "ab"), stderr=open(log, "ab"))


def stop(proc: subprocess.Popen, log: Path) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("rill archive did not stop within 30 s of SIGTERM")
    text = log.read_text()
    assert code == 0, text
    return text


def objects(root: Path, prefix: str = "") -> list[Path]:
    """Every object under root/<prefix>YYYY/MM/DD/HH/, checked against Firehose's name format."""
    found = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_dir() or relative.parts[0] in (".rill-archive-tmp", "processing-failed"):
            continue
        match = NAME.match(path.name)
        assert match, f"{relative} is not named as Firehose names objects"
        year, month, day, hour = match.group(2, 3, 4, 5)
        assert str(relative) == f"{prefix}{year}/{month}/{day}/{hour}/{path.name}", relative
        found.append(path)
    return found


def lines_in(paths: list[Path]) -> list[str]:
    out = []
    for path in paths:
        data = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
        out += data.decode().splitlines()
    return out


class Writer:
    """Puts numbered records with boto3 until stopped; keeps the data of every acknowledged one."""

    def __init__(self, kinesis, stream: str):
        self.kinesis, self.stream = kinesis, stream
        self.sent: set[str] = set()
        self.acked: list[str] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.errors: list[str] = []

    def run(self):
        n = 0
        while not self.stopping.is_set() and n < 100_000:
            batch = [f"rec-{n + i:07d}" for i in range(25)]
            n += len(batch)
            self.sent.update(batch)
            try:
                answer = self.kinesis.put_records(StreamName=self.stream, Records=[
                    {"Data": data.encode(), "PartitionKey": f"k{i % 11}"} for i, data in enumerate(batch)])
            except Exception as error:  # an unacknowledged batch is not expected in the archive
                self.errors.append(str(error))
                continue
            self.acked += [data for data, result in zip(batch, answer["Records"]) if "SequenceNumber" in result]


def put_all(kinesis, stream: str, datas: list[bytes]):
    """PutRecords, putting again (after a producer's backoff) the entries a throughput limit refused; bounded."""
    pending = datas
    for attempt in range(50):
        answer = kinesis.put_records(StreamName=stream, Records=[{"Data": d, "PartitionKey": "k"} for d in pending])
        pending = [d for d, result in zip(pending, answer["Records"]) if "SequenceNumber" not in result]
        if not pending:
            return
        time.sleep(min(1.0, 0.05 * 2 ** attempt))
    raise AssertionError(f"{len(pending)} records refused 50 times")


def test_kill_9_twice_under_continuous_puts_archives_every_record_once(rill_bin, rill, kinesis, tmp_path):
    stream = create_stream(kinesis, shards=2)
    root, log = tmp_path / "archive", tmp_path / "archive.log"
    args = ("--worker-id", "archiver-1", "--buffer-interval", "1", "--buffer-size", "1", "--newline-delimiter")
    writer = Writer(kinesis, stream)
    writer.thread.start()
    proc = start_archive(rill_bin, rill, stream, "to-folder", root, *args, log=log)
    try:
        for _ in range(2):
            seen = len(objects(root)) if root.exists() else 0
            wait_for(lambda: root.exists() and len(objects(root)) >= seen + 3, 60, "three more objects")
            proc.kill()
            proc.wait(timeout=10)
            proc = start_archive(rill_bin, rill, stream, "to-folder", root, *args, log=log)
        wait_for(lambda: len(writer.acked) > 1000, 60, "a thousand acknowledged records")
        writer.stopping.set()
        writer.thread.join(timeout=30)
        acked = set(writer.acked)
        wait_for(lambda: acked <= set(lines_in(objects(root))), 60, "every acknowledged record archived")
    finally:
        writer.stopping.set()
        text = stop(proc, log) if proc.poll() is None else log.read_text()
    archived = lines_in(objects(root))
    twice = [line for line, count in Counter(archived).items() if count > 1]
    assert not twice, f"{len(twice)} records archived twice, e.g. {twice[:5]}"
    assert acked <= set(archived)
    # A record whose PutRecords answer was lost may be archived without being acknowledged; nothing else may.
    assert set(archived) <= writer.sent
    assert not any((root / ".rill-archive-tmp").iterdir()), "temporary files left behind"
    assert "lease taken" in text and "stopped:" in text
    assert re.search(r"records, \d+ bytes in \d+ objects", text)


def test_gzip_objects_pass_gzip_t_and_respect_the_size_hint(rill_bin, rill, kinesis, tmp_path):
    stream = create_stream(kinesis, shards=1)
    record = 100_000
    datas = [(f"{i:06d}".encode() + b"x" * (record - 7) + b"\n") for i in range(40)]
    for start in range(0, len(datas), 5):
        put_all(kinesis, stream, datas[start:start + 5])
    root, log = tmp_path / "archive", tmp_path / "archive.log"
    # No delimiter: each record ends in its own newline. A long interval: only the size hint cuts objects.
    proc = start_archive(rill_bin, rill, stream, "gz", root, "--compression", "GZIP", "--buffer-size", "1",
                         "--buffer-interval", "900", "--prefix", "raw/", log=log)
    try:
        wait_for(lambda: root.exists() and len(objects(root, "raw/")) >= 3, 60, "three objects cut by size")
    finally:
        stop(proc, log)
    paths = objects(root, "raw/")
    assert all(p.name.endswith(".gz") for p in paths)
    for path in paths:
        subprocess.run(["gzip", "-t", str(path)], check=True)
    sizes = sorted(len(gzip.decompress(p.read_bytes())) for p in paths)
    # Every object cut by size holds as many whole records as fit in 1 MiB (10); the one drained at SIGTERM fewer.
    assert sizes[-1] <= 1024 * 1024 and sizes.count(10 * record) >= 3, sizes
    assert sorted(lines_in(paths)) == sorted(d.decode().rstrip("\n") for d in datas)


def test_interval_hint_and_kpl_aggregates_are_written_as_user_records(rill_bin, rill, kinesis, tmp_path):
    stream = create_stream(kinesis, shards=1)
    root, log = tmp_path / "archive", tmp_path / "archive.log"
    proc = start_archive(rill_bin, rill, stream, "interval", root, "--buffer-interval", "3", "--newline-delimiter",
                         log=log)
    try:
        wait_for(lambda: "lease taken" in log.read_text(), 30, "the archiver holding the shard")
        aggregator = RecordAggregator()
        users = [f"user record {i}" for i in range(12)]
        for i, data in enumerate(users):
            assert aggregator.add_user_record(f"pk-{i % 3}", data.encode()) is None
        pk, ehk, data = aggregator.clear_and_get().get_contents()
        put_at = time.monotonic()
        kinesis.put_record(StreamName=stream, PartitionKey=pk, Data=data, **({"ExplicitHashKey": ehk} if ehk else {}))
        kinesis.put_record(StreamName=stream, PartitionKey="plain", Data=b"plain record")
        wait_for(lambda: len(objects(root)) >= 1, 30, "an object after the interval")
        waited = time.monotonic() - put_at
    finally:
        stop(proc, log)
    # Read within half a second of the put (the idle poll), so the object waits the interval's 3 s after that.
    assert 2.4 <= waited <= 8, f"object written {waited:.1f} s after the put with --buffer-interval 3"
    assert lines_in(objects(root)) == users + ["plain record"]


def test_a_folder_that_refuses_objects_sends_records_to_the_error_output(rill_bin, rill, kinesis, tmp_path):
    stream = create_stream(kinesis, shards=1)
    root, log = tmp_path / "archive", tmp_path / "archive.log"
    root.mkdir()
    (root / "blocked").write_text("a file where the prefix's folder should be\n")
    sequence = kinesis.put_record(StreamName=stream, PartitionKey="k", Data=b"undeliverable")["SequenceNumber"]
    proc = start_archive(rill_bin, rill, stream, "refused", root, "--buffer-interval", "0", "--prefix", "blocked/",
                         log=log)
    failed = root / "processing-failed"
    try:
        wait_for(lambda: failed.exists() and any(p.is_file() for p in failed.rglob("*")), 60, "an error object")
    finally:
        text = stop(proc, log)
    [path] = [p for p in failed.rglob("*") if p.is_file()]
    assert NAME.match(path.name) and re.fullmatch(r"processing-failed/\d{4}/\d{2}/\d{2}/\d{2}/.+",
                                                  str(path.relative_to(root)))
    [line] = path.read_text().splitlines()
    error = json.loads(line)
    assert error["attemptsMade"] == 4 and error["errorCode"] == "Archive.WriteFailed"
    assert "Not a directory" in error["errorMessage"]
    assert base64.b64decode(error["rawData"]) == b"undeliverable"
    assert error["sequenceNumber"] == sequence and error["subSequenceNumber"] == 0
    assert abs(error["arrivalTimestamp"] / 1000 - time.time()) < 300
    assert "records sent to the error output" in text and "1 records in 1 error objects" in text
    assert (root / "blocked").is_file()
