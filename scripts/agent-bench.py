"""Agent lines/s: one rill node, a 1-shard stream, a file of N lines read from the start; the time from the
agent's start until its checkpoint acknowledges the whole file. Usage: python3 scripts/agent-bench.py .build/release/rill 100000"""
import json, subprocess, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Tests" / "compat"))
from conftest import RillServer, create_stream

rill_bin, lines = Path(sys.argv[1]), int(sys.argv[2])
work = Path(tempfile.mkdtemp(prefix="agent-bench-"))
server = RillServer(rill_bin, work / "node").start()
try:
    client = server.client()
    create_stream(client, "bench", shards=1)
    log = work / "app.log"
    with open(log, "wb") as out:
        for n in range(lines):
            out.write(b"%08d %s\n" % (n, b"x" * 90))
    size = log.stat().st_size
    config = work / "agent.json"
    config.write_text(json.dumps({"checkpointFile": str(work / "cp"), "kinesis.endpoint": server.endpoint,
        "flows": [{"filePattern": str(log), "kinesisStream": "bench", "initialPosition": "START_OF_FILE",
                   "maxBufferAgeMillis": 100}]}))
    start = time.monotonic()
    agent = subprocess.Popen([str(rill_bin), "agent", "--config", str(config), "--poll-interval", "20"],
                             stderr=open(work / "agent.log", "wb"))
    deadline = start + 600
    while time.monotonic() < deadline:
        try:
            cp = json.loads((work / "cp").read_text())
            files = next(iter(cp["flows"].values()))
            if files and files[-1]["ackedOffset"] >= size:
                break
        except (FileNotFoundError, json.JSONDecodeError, StopIteration):
            pass
        time.sleep(0.02)
    elapsed = time.monotonic() - start
    agent.terminate(); agent.wait(30)
    print(f"{lines} lines of 100 bytes in {elapsed:.2f} s: {lines / elapsed:,.0f} lines/s")
    print((work / "agent.log").read_text().strip().splitlines()[-1])
finally:
    server.stop()
