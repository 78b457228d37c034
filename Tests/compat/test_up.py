"""`rill up` (the README's "run it" command): serves the Kinesis API on --port, prints its endpoints,
keeps data across restarts on the same --data-dir, and exits cleanly on SIGTERM and SIGINT."""

import signal
import subprocess
import time
import urllib.error
import urllib.request

from conftest import cli_json, create_stream, free_port_block, make_client, read_shard, run_cli, shard_id


class Up:
    def __init__(self, binary, workdir, port, extra=()):
        self.binary, self.workdir, self.port, self.extra = binary, workdir, port, list(extra)
        self.log_path = workdir / "up.log"
        self.proc = None

    def start(self, timeout=30.0):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([str(self.binary), "up", "--data-dir", str(self.workdir / "data"),
                                      "--port", str(self.port), "--peer-port", str(free_port_block(4)), *self.extra],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=str(self.workdir))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"rill up exited early ({self.proc.returncode})\n{self.tail()}"
            try:
                # /health answers while the nodes still look for each other; /ready once the router serves.
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        self.proc.kill()
        raise AssertionError(f"rill up not ready within {timeout}s\n{self.tail()}")

    def stop(self, sig=signal.SIGTERM, timeout=20.0) -> int:
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(10)
            self.log.close()
        return rc

    def tail(self):
        return self.log_path.read_text(errors="replace")[-4000:]


def test_rill_up_serves_boto3_and_cli(rill_bin, tmp_path):
    port = free_port_block()
    up = Up(rill_bin, tmp_path, port)
    up.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        # The endpoints are printed once every node and the router are ready (the router's own "API listening"
        # line names the port earlier, before the cluster has formed: wait for the banner).
        deadline = time.monotonic() + 30
        while "rill is up" not in up.tail():
            assert time.monotonic() < deadline, f"rill up did not say it is up\n{up.tail()}"
            time.sleep(0.05)
        assert f"Kinesis endpoint  http://127.0.0.1:{port}" in up.tail()

        client = make_client(endpoint)
        name = create_stream(client, shards=2)
        acks = [client.put_record(StreamName=name, Data=b"up-%d" % i, PartitionKey=f"k{i}") for i in range(10)]
        assert name in cli_json(run_cli(endpoint, "list-streams"))["StreamNames"]
    except BaseException:
        up.stop(signal.SIGKILL)
        raise
    rc = up.stop(signal.SIGTERM)
    assert rc == 0, f"rill up exited with {rc} on SIGTERM\n{up.tail()}"

    # Same data dir: the stream and its records are back; SIGINT also stops it cleanly.
    up.start()
    try:
        client = make_client(endpoint)
        got = []
        for i in range(2):
            got += [r["SequenceNumber"] for r in read_shard(client, name, shard_id(i))]
        assert sorted(got, key=int) == sorted((a["SequenceNumber"] for a in acks), key=int)
    except BaseException:
        up.stop(signal.SIGKILL)
        raise
    rc = up.stop(signal.SIGINT)
    assert rc == 0, f"rill up exited with {rc} on SIGINT\n{up.tail()}"
