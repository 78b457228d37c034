"""`rill chaos --retrying-writers` (issue 19): writers that send a record again while its outcome is unknown,
as idempotent producers (`x-rill-producer-id`), under kill -9 of nodes and shard leaders. Every record must be
stored exactly once; every attempt is in the history.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from conftest import DEFAULT_BIN

BINARY = Path(os.environ.get("RILL_BIN", DEFAULT_BIN))


def run_chaos(args: list[str], out: Path, timeout: float) -> tuple[subprocess.CompletedProcess, dict]:
    proc = subprocess.run([str(BINARY), "chaos", *args, "--out", str(out)], capture_output=True, text=True,
                          timeout=timeout)
    verdict_path = out / "verdict.json"
    verdict = json.loads(verdict_path.read_text()) if verdict_path.exists() else {}
    return proc, verdict


def writes(out: Path) -> list[dict]:
    events = (json.loads(line) for line in (out / "history.jsonl").read_text().splitlines() if line.strip())
    return [event for event in events if event["type"] == "write" and "stream" not in event]


def test_idempotent_retrying_writers_store_every_record_once_under_kill(tmp_path):
    out = tmp_path / "run"
    proc, verdict = run_chaos(["--retrying-writers", "idempotent", "--duration", "20", "--faults", "kill",
                               "--seed", "3", "--no-churn", "--writers", "2", "--shards", "2", "--rate", "400",
                               "--write-timeout", "1"], out, timeout=240)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "writers (retrying, idempotent)" in proc.stdout
    assert verdict["valid"] is True
    assert verdict["duplicated"]["count"] == 0 and verdict["lost"]["count"] == 0
    assert verdict["writes"]["storedMoreThanOnce"] == 0
    assert verdict["faults"].get("kill", 0) >= 3, verdict["faults"]
    events = writes(out)
    # Every attempt is a line naming its attempt, the writer's producer id and the record's number, which is
    # the record's n and the same at every attempt.
    assert events and all(event["attempt"] >= 1 for event in events)
    for event in events:
        process, n = event["id"][1:].split("-")
        assert event["producer"] == f"chaos.w{process}"
        assert event["producerSequence"] == int(n)
    attempts: dict[str, list[dict]] = {}
    for event in events:
        attempts.setdefault(event["id"], []).append(event)
    for record in attempts.values():
        assert [event["attempt"] for event in record] == list(range(1, len(record) + 1))
        # Retried only while unknown: nothing follows an acknowledgement.
        assert all(event["outcome"] != "ok" for event in record[:-1])
    retried = sum(1 for record in attempts.values() if len(record) > 1)
    assert verdict["writes"]["retried"] == retried
    assert "stored more than once" in proc.stdout


def test_writers_without_the_flag_send_each_record_once(tmp_path):
    out = tmp_path / "run"
    proc, verdict = run_chaos(["--duration", "8", "--faults", "kill", "--seed", "3", "--no-churn", "--writers",
                               "1", "--shards", "1", "--rate", "200"], out, timeout=180)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    events = writes(out)
    assert events
    assert not any("attempt" in event or "producer" in event for event in events)
    assert len({event["id"] for event in events}) == len(events)
    assert verdict["writes"]["retried"] == 0


def test_an_unknown_retrying_writers_mode_is_refused(tmp_path):
    proc, _ = run_chaos(["--retrying-writers", "sometimes", "--duration", "10"], tmp_path / "run", timeout=30)
    assert proc.returncode != 0
    assert "--retrying-writers must be idempotent or plain" in proc.stderr
    assert not (tmp_path / "run").exists()
