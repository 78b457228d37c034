"""`rill agent`: log files tailed into a stream through rotation and kill -9, read back with boto3.

The agent is a real `rill agent` process against the shared node; files are written and rotated by the test
(rename-and-create and copytruncate, as logrotate does), and every line must arrive exactly once, in order.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import create_stream, list_all_shards, read_shard, unique_name


def agent_config(tmp_path: Path, endpoint: str, stream: str, pattern: Path, **flow) -> Path:
    config = {
        "checkpointFile": str(tmp_path / "checkpoints"),
        "kinesis.endpoint": endpoint,
        "flows": [
            {
                "filePattern": str(pattern),
                "kinesisStream": stream,
                "initialPosition": "START_OF_FILE",
                "maxBufferAgeMillis": 100,
                **flow,
            }
        ],
    }
    path = tmp_path / "agent.json"
    path.write_text(json.dumps(config))
    return path


class Agent:
    def __init__(self, rill_bin: Path, config: Path, log: Path):
        self.rill_bin, self.config, self.log_path = rill_bin, config, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Agent":
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(self.rill_bin), "agent", "--config", str(self.config), "--poll-interval", "50",
             "--progress-interval", "1"],
            stdout=self.log, stderr=subprocess.STDOUT,
        )
        return self

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.log.close()

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=30)
        self.log.close()
        return rc

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def read_stream(client, stream: str) -> list[bytes]:
    out: list[bytes] = []
    for shard in sorted(list_all_shards(client, stream), key=lambda s: s["ShardId"]):
        out += [r["Data"] for r in read_shard(client, stream, shard["ShardId"], timeout=60)]
    return out


def wait_for_records(client, stream: str, count: int, timeout: float) -> list[bytes]:
    deadline = time.monotonic() + timeout
    while True:
        records = read_stream(client, stream)
        if len(records) >= count or time.monotonic() > deadline:
            return records
        time.sleep(0.2)


class RotatingWriter(threading.Thread):
    """Appends `rate` lines/s to `path` for `seconds`, rotating every `every` seconds, by rename-and-create and
    copytruncate in turn. Lines are numbered globally, so their order is the order written."""

    def __init__(self, path: Path, rate: int, seconds: float, every: float):
        super().__init__(daemon=True)
        self.path, self.rate, self.seconds, self.every = path, rate, seconds, every
        self.lines = 0
        self.rotations = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._run()
        except BaseException as error:  # surfaced by the test
            self.error = error

    def _run(self) -> None:
        out = open(self.path, "ab")
        start = time.monotonic()
        next_rotation = start + self.every
        batch = max(1, self.rate // 100)
        while time.monotonic() - start < self.seconds:
            due = int((time.monotonic() - start) * self.rate)
            while self.lines < due:
                out.write(b"".join(b"line %08d\n" % (self.lines + i) for i in range(batch)))
                self.lines += batch
            out.flush()
            if time.monotonic() >= next_rotation:
                self.rotations += 1
                rotated = self.path.with_name(f"{self.path.name}.{self.rotations}")
                if self.rotations % 2 == 1:
                    out.close()
                    os.rename(self.path, rotated)
                    out = open(self.path, "ab")
                else:
                    shutil.copyfile(self.path, rotated)
                    os.truncate(self.path, 0)  # the writer appends (O_APPEND), so it goes on at 0
                next_rotation += self.every
            time.sleep(0.01)  # pacing the writer, not waiting for a condition
        out.close()


def test_agent_sends_every_line_once_in_order_through_rotation_and_two_kill_9s(rill, rill_bin, tmp_path):
    client = rill.client()
    stream = create_stream(client, unique_name("agent"), shards=1)
    logs = tmp_path / "logs"
    logs.mkdir()
    app = logs / "app.log"
    config = agent_config(tmp_path, rill.endpoint, stream, app, maxBufferSizeRecords=500)
    writer = RotatingWriter(app, rate=1000, seconds=12, every=2.0)
    app.touch()
    agent = Agent(rill_bin, config, tmp_path / "agent.log").start()
    writer.start()
    try:
        for kill_at in (2, 4):  # rotations done before each kill -9: both kinds behind each
            deadline = time.monotonic() + 30
            while writer.rotations < kill_at and time.monotonic() < deadline:
                time.sleep(0.05)
            assert writer.rotations >= kill_at, "the writer stalled"
            agent.kill9()
            agent = Agent(rill_bin, config, tmp_path / "agent.log").start()
        writer.join(timeout=60)
        assert not writer.is_alive() and writer.error is None, writer.error
        expected = [b"line %08d\n" % n for n in range(writer.lines)]
        records = wait_for_records(client, stream, len(expected), timeout=60)
    finally:
        rc = agent.stop()
    output = agent.output()
    assert rc == 0, output[-3000:]
    got = set(records)
    missing = [line for line in expected if line not in got]
    assert not missing, f"{len(missing)} lines lost, first {missing[:3]}\n{output[-3000:]}"
    assert len(records) == len(got), f"{len(records) - len(got)} duplicates\n{output[-3000:]}"
    assert records == expected, "lines out of order"
    assert writer.rotations >= 5
    assert "records sent" in output, output[-2000:]


@pytest.mark.parametrize(
    "option, lines, expected",
    [
        (
            {"optionName": "SINGLELINE"},
            ["  a b  \n", "\tc\n"],
            [b"a b", b"c"],
        ),
        (
            {"optionName": "CSVTOJSON", "customFieldNames": ["id", "name"], "delimiter": "|"},
            ["1|ann\n", "2| bob \n"],
            [b'{"id":"1","name":"ann"}\n', b'{"id":"2","name":"bob"}\n'],
        ),
        (
            {"optionName": "LOGTOJSON", "logFormat": "COMMONAPACHELOG"},
            ['10.0.0.1 - - [07/Mar/2004:16:10:02 -0800] "GET /x HTTP/1.1" 200 6291\n'],
            [b'{"host":"10.0.0.1","ident":null,"authuser":null,"datetime":"07/Mar/2004:16:10:02 -0800",'
             b'"request":"GET /x HTTP/1.1","response":"200","bytes":"6291"}\n'],
        ),
        (
            {"optionName": "LOGTOJSON", "logFormat": "COMBINEDAPACHELOG"},
            ['10.0.0.1 - amy [07/Mar/2004:16:10:02 -0800] "GET /x HTTP/1.1" 404 - "http://r/" "curl/8"\n'],
            [b'{"host":"10.0.0.1","ident":null,"authuser":"amy","datetime":"07/Mar/2004:16:10:02 -0800",'
             b'"request":"GET /x HTTP/1.1","response":"404","bytes":null,"referrer":"http://r/","agent":"curl/8"}\n'],
        ),
        (
            {"optionName": "LOGTOJSON", "logFormat": "APACHEERRORLOG"},
            ["[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187] "
             "File does not exist\n"],
            [b'{"timestamp":"Fri Sep 09 10:42:29.902022 2011","module":"core","severity":"error",'
             b'"processid":"35708","threadid":"4328636416","client":"72.15.99.187","message":"File does not exist"}\n'],
        ),
        (
            {"optionName": "LOGTOJSON", "logFormat": "SYSLOG"},
            ["Mar 12 12:00:08 server2 rcd[308]: Loaded 12 packages\n"],
            [b'{"timestamp":"Mar 12 12:00:08","hostname":"server2","program":"rcd","processid":"308",'
             b'"message":"Loaded 12 packages"}\n'],
        ),
        (
            {"optionName": "LOGTOJSON", "logFormat": "RFC3339SYSLOG"},
            ["2026-12-06T10:00:00Z web1 nginx: started\n"],
            [b'{"timestamp":"2026-12-06T10:00:00Z","hostname":"web1","program":"nginx","processid":null,'
             b'"message":"started"}\n'],
        ),
        (
            {"optionName": "LOGTOJSON", "logFormat": "SYSLOG", "matchPattern": r"^(\w+)=(\d+)$",
             "customFieldNames": ["name", "value"]},
            ["load=42\n", "no match here\n"],
            [b'{"name":"load","value":"42"}\n', b"no match here\n"],
        ),
    ],
    ids=["SINGLELINE", "CSVTOJSON", "COMMONAPACHELOG", "COMBINEDAPACHELOG", "APACHEERRORLOG", "SYSLOG",
         "RFC3339SYSLOG", "matchPattern"],
)
def test_agent_processing_option(rill, rill_bin, tmp_path, option, lines, expected):
    client = rill.client()
    stream = create_stream(client, unique_name("agentopt"), shards=1)
    path = tmp_path / "in.log"
    path.write_text("".join(lines))
    config = agent_config(tmp_path, rill.endpoint, stream, path, dataProcessingOptions=[option],
                          partitionKeyOption="DETERMINISTIC")
    agent = Agent(rill_bin, config, tmp_path / "agent.log").start()
    try:
        records = wait_for_records(client, stream, len(expected), timeout=30)
    finally:
        rc = agent.stop()
    assert rc == 0, agent.output()
    assert records == expected, agent.output()


def test_agent_refuses_a_setting_it_does_not_honour(rill_bin, tmp_path):
    config = tmp_path / "agent.json"
    config.write_text(json.dumps({"flows": [{"filePattern": "/tmp/x.log", "kinesisStream": "s",
                                             "multiLineStartPattern": "^\\d"}]}))
    proc = subprocess.run([str(rill_bin), "agent", "--config", str(config)], capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode != 0
    assert "multiLineStartPattern" in proc.stderr, proc.stderr
