"""`rill trigger` (docs/consumers.md): a Lambda event source mapping run as a process. Real `rill trigger` processes
against a real node, records put with boto3, handlers as a Lambda user writes them: a Python handler printing each
record's decoded data, a --command, an HTTP endpoint shaped like the Lambda runtime interface emulator. Two groups
each see every record; two workers share a group and one is killed with SIGKILL; parallelization factor 10 against
1 with a slow handler; a poison record isolated by bisecting and by partial batch responses, then sent to the
on-failure file while the group moves on."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import create_stream, read_shard, wait_for
from groups_client import GroupsClient

LAMBDA_HANDLER = '''
import base64


def lambda_handler(event, context):
    for record in event["Records"]:
        payload = base64.b64decode(record["kinesis"]["data"]).decode("utf-8")
        print(payload)
    return {"function": context.function_name, "remaining": context.get_remaining_time_in_millis()}
'''

# Appends one JSON line per batch to $TRIGGER_LOG: its records' keys, data and sequence numbers, when it ran, the
# pid, and how many records it handled ("done"); sleeps $TRIGGER_SLEEP seconds; a record whose data is "poison"
# fails the batch ($TRIGGER_MODE raise: none done) or is reported in batchItemFailures ($TRIGGER_MODE partial: the
# records before it done).
RECORDING_HANDLER = '''
import base64, json, os, time


def handler(event, context):
    started = time.monotonic()
    time.sleep(float(os.environ.get("TRIGGER_SLEEP", "0")))
    records = [(r["kinesis"]["partitionKey"], base64.b64decode(r["kinesis"]["data"]).decode(),
                r["kinesis"]["sequenceNumber"]) for r in event["Records"]]
    poison = [seq for _, data, seq in records if data == "poison"]
    mode = os.environ.get("TRIGGER_MODE", "")
    done = len(records)
    if poison and mode == "raise":
        done = 0
    elif poison and mode == "partial":
        done = [seq for _, _, seq in records].index(poison[0])
    line = json.dumps({"records": records, "start": started, "end": time.monotonic(), "pid": os.getpid(),
                       "done": done, "failed": done < len(records)}) + "\\n"
    fd = os.open(os.environ["TRIGGER_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.write(fd, line.encode())
    os.close(fd)
    if poison and mode == "raise":
        raise ValueError("poison record")
    if poison and mode == "partial":
        return {"batchItemFailures": [{"itemIdentifier": poison[0]}]}
    return None
'''


def start_trigger(rill_bin, rill, stream: str, group: str, *args: str, out: Path, env: dict | None = None):
    stdout = open(out, "wb")
    proc = subprocess.Popen([str(rill_bin), "trigger", "--endpoint", rill.endpoint, "--stream", stream, "--group",
                             group, *args], stdout=stdout, stderr=open(str(out) + ".err", "wb"),
                            env={**os.environ, **(env or {})})
    stdout.close()
    return proc


def stop(proc: subprocess.Popen, out: Path) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("rill trigger did not stop within 30 s of SIGTERM")
    log = Path(str(out) + ".err").read_text()
    assert code == 0, log
    return log


def batches(log: Path) -> list[dict]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line]


def handled(log: Path) -> list[tuple[str, str, str]]:
    """Every record a batch handled, in the order the batches were written."""
    return [tuple(record) for batch in batches(log) for record in batch["records"][:batch["done"]]]


def checkpoints(rill, stream: str, group: str) -> dict[str, str]:
    leases = GroupsClient(rill.endpoint).describe_group(stream, group)["Leases"]
    return {lease["ShardId"]: lease["Checkpoint"].get("SequenceNumber") for lease in leases}


class Emulator(BaseHTTPRequestHandler):
    """What the Lambda runtime interface emulator answers: the function's response to a POST of the event."""

    events: list[dict] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        assert self.path == "/2015-03-31/functions/function/invocations"
        Emulator.events.append(json.loads(body))
        answer = b"null"
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def test_lambda_handler_runs_unchanged_and_every_group_sees_every_record(rill_bin, rill, kinesis, tmp_path):
    stream = create_stream(kinesis, shards=2)
    lines = [f"line {i}" for i in range(60)]
    puts = [kinesis.put_record(StreamName=stream, Data=line.encode(), PartitionKey=f"k{i % 7}")
            for i, line in enumerate(lines)]
    handler = tmp_path / "lambda_function.py"
    handler.write_text(LAMBDA_HANDLER)
    events = tmp_path / "events.jsonl"
    record_event = ("python3 -c \"import json, sys; e = json.load(sys.stdin); "
                    f"open('{events}', 'a').write(json.dumps(e) + chr(10))\"")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Emulator)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/2015-03-31/functions/function/invocations"
    outs = [tmp_path / f"{name}.out" for name in ("python", "command", "url")]
    procs = [
        start_trigger(rill_bin, rill, stream, "printer", "--handler", f"{handler}:lambda_handler",
                      "--starting-position", "TRIM_HORIZON", out=outs[0]),
        start_trigger(rill_bin, rill, stream, "recorder", "--command", record_event, "--batch-size", "25",
                      "--starting-position", "TRIM_HORIZON", out=outs[1]),
        start_trigger(rill_bin, rill, stream, "emulated", "--invoke-url", url, "--starting-position", "TRIM_HORIZON",
                      out=outs[2]),
    ]
    try:
        wait_for(lambda: sorted(outs[0].read_text().splitlines()) == sorted(lines), 30,
                 "the Python handler printing every record")
        wait_for(lambda: events.exists() and sum(len(json.loads(l)["Records"])
                                                 for l in events.read_text().splitlines()) >= len(lines), 30,
                 "the command seeing every record")
        wait_for(lambda: sum(len(e["Records"]) for e in Emulator.events) >= len(lines), 30,
                 "the invoke URL seeing every record")
        last = {}
        for put in puts:
            last[put["ShardId"]] = put["SequenceNumber"]
        for group in ("printer", "recorder", "emulated"):
            wait_for(lambda: checkpoints(rill, stream, group) == last, 15, f"group {group} checkpointed to the end")
    finally:
        logs = [stop(proc, out) for proc, out in zip(procs, outs)]
        server.shutdown()
    assert "lease taken" in logs[0]
    arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    seen = []
    for line in events.read_text().splitlines():
        event = json.loads(line)
        assert 1 <= len(event["Records"]) <= 25
        for record in event["Records"]:
            assert set(record) == {"kinesis", "eventSource", "eventVersion", "eventID", "eventName",
                                   "invokeIdentityArn", "awsRegion", "eventSourceARN"}
            assert set(record["kinesis"]) == {"kinesisSchemaVersion", "partitionKey", "sequenceNumber", "data",
                                              "approximateArrivalTimestamp"}
            assert record["eventSource"] == "aws:kinesis" and record["eventName"] == "aws:kinesis:record"
            assert record["eventVersion"] == "1.0" and record["kinesis"]["kinesisSchemaVersion"] == "1.0"
            assert record["eventSourceARN"] == arn and record["awsRegion"] == "us-east-1"
            assert record["invokeIdentityArn"].startswith("arn:aws:iam::")
            assert isinstance(record["kinesis"]["approximateArrivalTimestamp"], float)
            assert abs(record["kinesis"]["approximateArrivalTimestamp"] - time.time()) < 300
            shard, sequence = record["eventID"].split(":")
            assert sequence == record["kinesis"]["sequenceNumber"] and shard.startswith("shardId-")
            seen.append((shard, sequence, record["kinesis"]["partitionKey"],
                         base64.b64decode(record["kinesis"]["data"]).decode()))
    assert sorted(seen) == sorted((p["ShardId"], p["SequenceNumber"], f"k{i % 7}", lines[i])
                                  for i, p in enumerate(puts))


def test_two_workers_share_a_group_and_one_takes_over_after_kill(rill_bin, rill, kinesis, tmp_path):
    stream = create_stream(kinesis, shards=4)
    groups = GroupsClient(rill.endpoint)
    groups.create_group(stream, "shared", failover_ms=3000, position={"Type": "TRIM_HORIZON"})
    handler = tmp_path / "record.py"
    handler.write_text(RECORDING_HANDLER)
    logs = [tmp_path / "w1.jsonl", tmp_path / "w2.jsonl"]
    outs = [tmp_path / "w1.out", tmp_path / "w2.out"]
    workers = [start_trigger(rill_bin, rill, stream, "shared", "--handler", f"{handler}:handler", "--worker-id",
                             f"w{n + 1}", "--batch-size", "20", out=outs[n], env={"TRIGGER_LOG": str(logs[n])})
               for n in range(2)]
    acknowledged: list[tuple[str, str]] = []
    counter = iter(range(10**6))

    def put_some(count: int):
        for _ in range(count):
            n = next(counter)
            key = f"k{n % 16}"
            kinesis.put_record(StreamName=stream, Data=f"{key}:{n}".encode(), PartitionKey=key)
            acknowledged.append((key, f"{key}:{n}"))

    def owners() -> dict[str, str]:
        return {l["ShardId"]: l.get("Owner") for l in groups.describe_group(stream, "shared")["Leases"] if l["Held"]}

    try:
        deadline = time.monotonic() + 30
        while sorted(owners().values()) != ["w1", "w1", "w2", "w2"]:
            assert time.monotonic() < deadline, f"the workers did not share the shards: {owners()}"
            put_some(5)
        put_some(100)
        workers[0].kill()
        workers[0].wait()
        killed = time.monotonic()
        while sorted(owners().values()) != ["w2"] * 4:
            assert time.monotonic() - killed < 15, f"w2 did not take w1's shards within 15 s: {owners()}"
            put_some(2)
        took = time.monotonic() - killed
        put_some(100)
        expected = {data for _, data in acknowledged}
        wait_for(lambda: expected <= {data for _, data, _ in handled(logs[0]) + handled(logs[1])}, 30,
                 "every acknowledged record handled")
    finally:
        if workers[0].poll() is None:
            workers[0].kill()
        stop(workers[1], outs[1])
    print(f"failover: w2 held all four shards {took:.2f} s after SIGKILL of w1")
    # At least once, each key in order: a worker may see a record again after a lease moved (a balancing steal or
    # an expiry under load hands the shard on from the last checkpoint, and it may come back), so a run of a key's
    # records may restart at one already handled; but no record is handled before an earlier one of its key.
    for log in logs:
        per_key: dict[str, list[int]] = {}
        for key, data, _ in handled(log):
            per_key.setdefault(key, []).append(int(data.split(":")[1]))
        for key, numbers in per_key.items():
            firsts = list(dict.fromkeys(numbers))
            assert firsts == sorted(firsts), f"{log.name}: key {key} out of order: {numbers}"
    first = {data for _, data, _ in handled(logs[0])}
    again = [data for _, data, _ in handled(logs[1]) if data in first]
    print(f"records handled twice (after the kill): {len(again)} of {len(acknowledged)}")


def test_parallelization_factor_ten_beats_one_and_keeps_each_key_in_order(rill_bin, rill, kinesis, tmp_path):
    stream = create_stream(kinesis, shards=1)
    records = kinesis.put_records(StreamName=stream, Records=[
        {"Data": f"k{n % 20}:{n}".encode(), "PartitionKey": f"k{n % 20}"} for n in range(200)])
    assert records["FailedRecordCount"] == 0
    handler = tmp_path / "slow.py"
    handler.write_text(RECORDING_HANDLER)
    elapsed = {}
    for factor in (1, 10):
        log = tmp_path / f"factor{factor}.jsonl"
        out = tmp_path / f"factor{factor}.out"
        began = time.monotonic()
        proc = start_trigger(rill_bin, rill, stream, f"factor{factor}", "--handler", f"{handler}:handler",
                             "--batch-size", "5", "--parallelization-factor", str(factor),
                             "--starting-position", "TRIM_HORIZON", out=out,
                             env={"TRIGGER_LOG": str(log), "TRIGGER_SLEEP": "0.2"})
        try:
            wait_for(lambda: len(handled(log)) >= 200, 60, f"factor {factor} handling every record")
            elapsed[factor] = time.monotonic() - began
        finally:
            stop(proc, out)
        done = batches(log)
        per_key: dict[str, list[int]] = {}
        for batch in sorted(done, key=lambda b: b["start"]):
            for key, data, _ in batch["records"]:
                per_key.setdefault(key, []).append(int(data.split(":")[1]))
        for key, numbers in per_key.items():
            assert numbers == sorted(numbers), f"factor {factor}: key {key} out of order"
        # No key is ever in two batches that ran at the same time.
        for i, a in enumerate(done):
            for b in done[i + 1:]:
                if a["start"] < b["end"] and b["start"] < a["end"]:
                    assert not {k for k, _, _ in a["records"]} & {k for k, _, _ in b["records"]}
        if factor == 10:
            overlapping = any(a["start"] < b["end"] and b["start"] < a["end"]
                              for i, a in enumerate(done) for b in done[i + 1:])
            assert overlapping, "factor 10 never ran two batches at once"
    print(f"200 records, 0.2 s per batch of 5: factor 1 {elapsed[1]:.1f} s, factor 10 {elapsed[10]:.1f} s")
    assert elapsed[10] < elapsed[1] * 0.6, elapsed


@pytest.mark.parametrize("mode,options", [
    ("raise", ["--bisect-batch-on-function-error"]),
    ("partial", ["--function-response-types", "ReportBatchItemFailures"]),
])
def test_a_poison_record_is_isolated_retried_then_sent_to_the_failure_file(rill_bin, rill, kinesis, tmp_path,
                                                                            mode, options):
    stream = create_stream(kinesis, shards=1)
    data = [f"r{n}" for n in range(16)]
    data[9] = "poison"
    puts = [kinesis.put_record(StreamName=stream, Data=d.encode(), PartitionKey="one-key") for d in data]
    handler = tmp_path / "poison.py"
    handler.write_text(RECORDING_HANDLER)
    log = tmp_path / "batches.jsonl"
    failures = tmp_path / "failed.jsonl"
    out = tmp_path / "trigger.out"
    proc = start_trigger(rill_bin, rill, stream, "g", "--handler", f"{handler}:handler", "--batch-size", "16",
                         "--maximum-retry-attempts", "2", "--on-failure", f"file:{failures}",
                         "--starting-position", "TRIM_HORIZON", *options, out=out,
                         env={"TRIGGER_LOG": str(log), "TRIGGER_MODE": mode})
    try:
        wait_for(lambda: failures.exists() and failures.read_text().strip(), 30, "the on-failure record")
        later = kinesis.put_record(StreamName=stream, Data=b"after", PartitionKey="one-key")
        wait_for(lambda: checkpoints(rill, stream, "g")["shardId-000000000000"] == later["SequenceNumber"], 30,
                 "the group moving past the poison record")
    finally:
        stop(proc, out)
    [line] = failures.read_text().splitlines()
    failed = json.loads(line)
    info = failed["KinesisBatchInfo"]
    assert failed["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert info["shardId"] == "shardId-000000000000" and info["startSequenceNumber"] == puts[9]["SequenceNumber"]
    given_up = [base64.b64decode(r["kinesis"]["data"]).decode() for r in failed["payload"]["Records"]]
    assert given_up[0] == "poison" and info["batchSize"] == len(given_up)
    if mode == "raise":
        assert given_up == ["poison"], "bisecting isolates the poison record"
    seen = {d for _, d, _ in handled(log)}
    assert set(data) - {"poison"} <= seen | set(given_up) and "after" in seen
    # The poison record failed 1 + 2 retries times: alone once bisected, at the head of the retried rest with
    # partial responses.
    failing = [b for b in batches(log) if b["failed"] and (mode == "partial" or len(b["records"]) == 1)]
    assert len(failing) >= 3, failing



def test_a_poison_record_goes_to_an_on_failure_stream_and_the_group_moves_on(rill_bin, rill, kinesis, tmp_path):
    """--on-failure STREAM: the batch given up on arrives on the other stream, read with boto3, as Lambda's
    invocation record (keyed by the source shard) with the failed records in `payload`."""
    stream = create_stream(kinesis, shards=1)
    failures = create_stream(kinesis, shards=1)
    data = [f"r{n}" for n in range(8)]
    data[5] = "poison"
    puts = [kinesis.put_record(StreamName=stream, Data=d.encode(), PartitionKey="one-key") for d in data]
    handler = tmp_path / "poison.py"
    handler.write_text(RECORDING_HANDLER)
    log = tmp_path / "batches.jsonl"
    out = tmp_path / "trigger.out"
    proc = start_trigger(rill_bin, rill, stream, "g", "--handler", f"{handler}:handler", "--batch-size", "8",
                         "--maximum-retry-attempts", "1", "--bisect-batch-on-function-error",
                         "--on-failure", failures, "--function-name", "poison-eater",
                         "--starting-position", "TRIM_HORIZON", out=out,
                         env={"TRIGGER_LOG": str(log), "TRIGGER_MODE": "raise"})
    try:
        arrived = []

        def failure_records():
            arrived[:] = read_shard(kinesis, failures, "shardId-000000000000", timeout=2.0)
            return arrived

        wait_for(failure_records, 30, "the on-failure record on the failure stream")
        later = kinesis.put_record(StreamName=stream, Data=b"after", PartitionKey="one-key")
        wait_for(lambda: checkpoints(rill, stream, "g")["shardId-000000000000"] == later["SequenceNumber"], 30,
                 "the group moving past the poison record")
    finally:
        stop_log = stop(proc, out)
    assert "sent to the on-failure destination (RetryAttemptsExhausted)" in stop_log
    [record] = arrived
    assert record["PartitionKey"] == "shardId-000000000000"
    failed = json.loads(record["Data"])
    assert set(failed) == {"requestContext", "responseContext", "version", "timestamp", "KinesisBatchInfo",
                           "payload"}
    arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    context = failed["requestContext"]
    assert context["condition"] == "RetryAttemptsExhausted" and context["approximateInvokeCount"] >= 2
    assert context["functionArn"].endswith(":function:poison-eater")
    assert failed["responseContext"]["functionError"] == "Unhandled" and failed["version"] == "1.0"
    info = failed["KinesisBatchInfo"]
    assert info == {**info, "shardId": "shardId-000000000000", "startSequenceNumber": puts[5]["SequenceNumber"],
                    "endSequenceNumber": puts[5]["SequenceNumber"], "batchSize": 1, "streamArn": arn}
    [given_up] = failed["payload"]["Records"]
    assert given_up["eventSourceARN"] == arn and given_up["eventID"] == f"shardId-000000000000:{puts[5]['SequenceNumber']}"
    assert base64.b64decode(given_up["kinesis"]["data"]) == b"poison"
    assert given_up["kinesis"]["sequenceNumber"] == puts[5]["SequenceNumber"]
    seen = [d for _, d, _ in handled(log)]
    assert set(seen) == set(data) - {"poison"} | {"after"}

LOGGING_HANDLER = '''
import logging, os

logger = logging.getLogger()
if "AWS_LAMBDA_LOG_LEVEL" not in os.environ:
    logger.setLevel(logging.INFO)


def lambda_handler(event, context):
    for record in event["Records"]:
        logger.info("partition key %s", record["kinesis"]["partitionKey"])
    logger.debug("not shown at INFO")
'''


@pytest.mark.parametrize("level", [None, "DEBUG"])
def test_a_handler_that_logs_with_logging_shows_its_lines_as_lambda_does(rill_bin, rill, kinesis, tmp_path, level):
    """The lab's consumers log with `logging` at INFO: each line reaches the output as Lambda's runtime writes it,
    `[LEVEL] time request-id message`; AWS_LAMBDA_LOG_LEVEL lowers the level as Lambda's log controls do."""
    stream = create_stream(kinesis, shards=1)
    kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="pk-logged")
    handler = tmp_path / "logs.py"
    handler.write_text(LOGGING_HANDLER)
    out = tmp_path / "logs.out"
    proc = start_trigger(rill_bin, rill, stream, "logged", "--handler", f"{handler}:lambda_handler",
                         "--starting-position", "TRIM_HORIZON", out=out,
                         env={"AWS_LAMBDA_LOG_LEVEL": level} if level else None)
    try:
        wait_for(lambda: "partition key pk-logged" in out.read_text(), 30, "the handler's log line")
    finally:
        stop(proc, out)
    lines = out.read_text().splitlines()
    line = next(l for l in lines if "partition key pk-logged" in l)
    fields = line.split("\t")
    assert fields[0] == "[INFO]" and fields[1].endswith("Z") and len(fields[2]) > 0, line
    assert fields[3] == "partition key pk-logged"
    assert any("not shown at INFO" in l for l in lines) == (level == "DEBUG")


def test_consumers_doc_matches_trigger_help(rill_bin):
    """docs/consumers.md's `rill trigger` section and `rill trigger --help` list the same flags, both ways."""
    import re
    text = (Path(__file__).resolve().parents[2] / "docs" / "consumers.md").read_text()
    section = re.search(r"^## rill trigger\n(.*?)(?=^## |\Z)", text, re.S | re.M).group(1)
    documented = set(re.findall(r"^\| `(--[a-z0-9-]+)`", section, re.M))
    for sentence in re.findall(r"also takes (.*?)(?:\n\n|$)", section, re.S):
        documented |= set(re.findall(r"`(--[a-z0-9-]+)`", sentence))
    out = subprocess.run([str(rill_bin), "trigger", "--help"], capture_output=True, timeout=30).stdout.decode()
    offered = set(re.findall(r"^\s+(?:-\w, )?(--[a-z0-9-]+)", out, re.M)) - {"--help"}
    assert offered == documented
