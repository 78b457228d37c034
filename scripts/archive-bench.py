"""Archive records/s: one rill node, a stream of S shards holding N records of 100 bytes put beforehand with
`rill put`, then `rill archive` from TRIM_HORIZON; the time from the archiver's start until every record is in an
object under the time folders (counted from the objects' lines). Usage:
python3 scripts/archive-bench.py .build/release/rill 200000 [shards] [GZIP]"""
import subprocess, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Tests" / "compat"))
from conftest import RillServer, create_stream

rill_bin, records = Path(sys.argv[1]), int(sys.argv[2])
shards = int(sys.argv[3]) if len(sys.argv) > 3 else 2
compression = sys.argv[4] if len(sys.argv) > 4 else "UNCOMPRESSED"
work = Path(tempfile.mkdtemp(prefix="archive-bench-"))
server = RillServer(rill_bin, work / "node").start()
try:
    create_stream(server.client(), "bench", shards=shards)
    lines = b"".join(b"%08d %s\n" % (n, b"x" * 90) for n in range(records))
    subprocess.run([str(rill_bin), "put", "--endpoint", server.endpoint, "--stream", "bench", "--partition-key",
                    "{n}"], input=lines, check=True, capture_output=True)
    out = work / "out"
    start = time.monotonic()
    archive = subprocess.Popen([str(rill_bin), "archive", "--endpoint", server.endpoint, "--stream", "bench",
                                "--group", "bench", "--to", str(out), "--buffer-interval", "1", "--report-interval", "1",
                                "--compression", compression], stderr=open(work / "archive.log", "wb"),
                               stdout=subprocess.PIPE)
    deadline = start + 600
    archived = 0
    while time.monotonic() < deadline and archived < records:
        text = (work / "archive.log").read_text()
        so_far = [line for line in text.splitlines() if "so far" in line or "stopped:" in line]
        archived = int(so_far[-1].split("archive: ")[1].split(" records")[0]) if so_far else 0
        time.sleep(0.05)
    elapsed = time.monotonic() - start
    archive.terminate()
    summary = archive.communicate(timeout=60)[0].decode().strip()
    print(f"{records} records of 100 bytes, {shards} shards, {compression}: {elapsed:.2f} s to archive, "
          f"{records / elapsed:,.0f} records/s (report lines every second bound the time from above)")
    print(summary)
finally:
    server.stop()
