"""`rill chaos` beyond its own loopback cluster (issue 6): against a running cluster (`--endpoint`), and with
each node in a network namespace of its own (`--netns`, root only). Each run is short; the checker's verdict
must be valid.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from cluster import Cluster
from conftest import DEFAULT_BIN, free_port_block
from test_up import Up

BINARY = Path(os.environ.get("RILL_BIN", DEFAULT_BIN))


def run_chaos(args: list[str], out: Path, timeout: float) -> tuple[subprocess.CompletedProcess, dict]:
    proc = subprocess.run([str(BINARY), "chaos", *args, "--out", str(out)], capture_output=True, text=True,
                          timeout=timeout)
    verdict_path = out / "verdict.json"
    verdict = json.loads(verdict_path.read_text()) if verdict_path.exists() else {}
    return proc, verdict


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_chaos_against_a_running_cluster(tmp_path):
    """`rill up --fault-injection`, then `rill chaos --endpoint` at its three nodes and its router."""
    port = free_port_block(4)
    up = Up(BINARY, tmp_path, port, extra=["--fault-injection"])
    up.start()
    try:
        urls = [f"http://127.0.0.1:{p}" for p in range(port, port + 4)]
        deadline = time.monotonic() + 60
        while not all(ready(url) for url in urls):
            assert time.monotonic() < deadline, "rill up not ready within 60 s\n" + up.tail()
            time.sleep(0.1)
        proc, verdict = run_chaos(["--endpoint", ",".join(urls), "--duration", "20", "--faults",
                                   "partition,clock,delay", "--seed", "1", "--rate", "400", "--writers", "2",
                                   "--shards", "2"], tmp_path / "run", timeout=120)
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
        assert "routers 127.0.0.1:%d" % port in proc.stdout
        assert verdict["valid"] is True
        assert sum(verdict["faults"].values()) >= 3, verdict["faults"]
        assert set(verdict["faults"]) <= {"partition", "clock", "delay"}
        # Every fault was healed: the cluster the run found is left as it was, every node serving.
        for url in urls[1:]:
            faults = get_json(url + "/admin/faults")
            assert faults["isolated"] == [] and faults["delay"] == [] and faults["drop"] == []
            assert faults["clock"]["offsetMillis"] == 0
            assert ready(url)
    finally:
        up.stop()


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/ready", timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def test_chaos_refuses_process_faults_against_a_running_cluster(tmp_path):
    proc, _ = run_chaos(["--endpoint", "http://127.0.0.1:1", "--faults", "partition,kill", "--duration", "10"],
                        tmp_path / "run", timeout=30)
    assert proc.returncode != 0
    assert "--faults kill cannot run against --endpoint" in proc.stderr
    assert not (tmp_path / "run").exists()


def test_chaos_against_nodes_without_fault_injection_says_so(tmp_path):
    cluster = Cluster(BINARY, tmp_path / "cluster").start()
    try:
        endpoints = ",".join(node.endpoint for node in cluster.nodes)
        proc, _ = run_chaos(["--endpoint", endpoints, "--duration", "10"], tmp_path / "run", timeout=60)
        assert proc.returncode == 2
        assert "start the nodes with --fault-injection" in proc.stderr
    finally:
        cluster.stop()


def netns_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "not root"
    ip = shutil.which("ip") or ("/usr/sbin/ip" if os.path.exists("/usr/sbin/ip") else None)
    if not ip:
        return "no iproute2 `ip`"
    probe = f"rillchaos-probe-test-{uuid.uuid4().hex[:6]}"
    added = subprocess.run([ip, "netns", "add", probe], capture_output=True, text=True)
    if added.returncode != 0:
        return f"`ip netns add` fails: {added.stderr.strip()}"
    subprocess.run([ip, "netns", "delete", probe], capture_output=True)
    return None


def test_chaos_with_each_node_in_its_own_network_namespace(tmp_path):
    reason = netns_unavailable()
    if reason:
        pytest.skip(f"--netns needs root and working `ip netns`: {reason}")
    out = tmp_path / "run"
    proc = subprocess.Popen([str(BINARY), "chaos", "--netns", "--duration", "15", "--faults", "netpartition,delay",
                             "--seed", "2", "--rate", "400", "--writers", "2", "--shards", "2", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output, _ = proc.communicate(timeout=90)
    verdict = json.loads((out / "verdict.json").read_text()) if (out / "verdict.json").exists() else {}
    assert proc.returncode == 0, output[-4000:]
    assert verdict["valid"] is True
    assert verdict["faults"].get("netpartition", 0) >= 1, verdict["faults"]
    assert "nodes at 10." in output and "nftables works" in output
    # Nothing of the run's network outlives it.
    left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert f"rillchaos-{proc.pid}-" not in left
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert f"rc{proc.pid}" not in links
