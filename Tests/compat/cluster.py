"""A three-node Rill cluster of real `rill node` processes on 127.0.0.1, for the cluster tests.

Each node has its own data dir and log under the workdir; nodes are killed with signals (SIGKILL for
kill -9, SIGSTOP/SIGCONT for pauses) and restarted on the same ports and data dirs.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

from conftest import free_port, make_client

ZONES = ["az-a", "az-b", "az-c"]


class ClusterNode:
    def __init__(self, binary: Path, workdir: Path, node_id: int, api_port: int, peer_port: int, join: list[str],
                 extra: list[str], zone: Optional[str] = None):
        self.binary, self.node_id = binary, node_id
        self.zone = zone or ZONES[(node_id - 1) % 3]
        self.api_port, self.peer_port = api_port, peer_port
        self.join, self.extra = join, extra
        self.dir = workdir / f"node-{node_id}"
        self.data_dir = self.dir / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.dir / "node.log"
        self.proc: Optional[subprocess.Popen] = None
        self.starts = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def command(self) -> list[str]:
        return [str(self.binary), "node", "--id", str(self.node_id), "--az", self.zone,
                "--data-dir", str(self.data_dir), "--api", f"127.0.0.1:{self.api_port}",
                "--peer", f"127.0.0.1:{self.peer_port}", "--join", ",".join(self.join),
                "--bootstrap-expect", "3", *self.extra]

    def start(self) -> None:
        assert not self.alive(), f"node {self.node_id} already running"
        self.starts += 1
        log = open(self.log_path, "ab", buffering=0)
        log.write(f"\n===== start #{self.starts}: {' '.join(self.command())}\n".encode())
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=str(self.dir))
        log.close()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """kill -9: nothing gets flushed."""
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self, timeout: float = 20.0) -> int:
        if not self.alive():
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise AssertionError(f"node {self.node_id} ignored SIGTERM for {timeout}s\n{self.log_tail()}")

    def pause(self) -> None:
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.proc.pid, signal.SIGCONT)

    def get(self, path: str, timeout: float = 2.0):
        with urllib.request.urlopen(self.endpoint + path, timeout=timeout) as r:
            body = r.read()
            return r.status, body

    def post(self, path: str, body: bytes, timeout: float = 10.0):
        """(status, body) of a POST; an HTTP error status is returned, not raised."""
        request = urllib.request.Request(self.endpoint + path, data=body, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def ready(self) -> bool:
        try:
            status, _ = self.get("/ready", timeout=1)
            return status == 200
        except (urllib.error.URLError, OSError):
            return False

    def status(self) -> dict:
        return json.loads(self.get("/admin/status")[1])

    def checksums(self) -> dict:
        return json.loads(self.get("/admin/checksums", timeout=30)[1])

    def client(self, **config):
        return make_client(self.endpoint, **config)

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return "(no log)"
        return f"--- node {self.node_id} log (last {lines} lines) ---\n" + "\n".join(text[-lines:])


class Cluster:
    def __init__(self, binary: Path, workdir: Path, size: int = 3, extra: Optional[list[str]] = None):
        ports = [(free_port(), free_port()) for _ in range(size)]
        join = [f"127.0.0.1:{peer}" for _, peer in ports]
        self.nodes = [ClusterNode(binary, workdir, i + 1, api, peer, join, extra or []) for i, (api, peer) in
                      enumerate(ports)]

    def start(self, timeout: float = 60.0) -> "Cluster":
        try:
            for node in self.nodes:
                node.start()
            self.wait_ready(timeout)
        except BaseException:
            # A fixture whose setup fails gets no teardown: leave no node running behind.
            self.stop()
            raise
        return self

    def wait_ready(self, timeout: float = 60.0, nodes: Optional[list[ClusterNode]] = None) -> None:
        nodes = nodes or [n for n in self.nodes if n.alive()]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for node in nodes:
                assert node.alive(), f"node {node.node_id} exited\n{node.log_tail()}"
            if all(node.ready() for node in nodes):
                return
            time.sleep(0.05)
        raise AssertionError("cluster not ready in time\n" + "\n".join(n.log_tail() for n in nodes))

    def stop(self) -> None:
        for node in self.nodes:
            if node.alive():
                try:
                    node.stop()
                except AssertionError:
                    pass

    def kill_all(self) -> None:
        for node in self.nodes:
            node.kill()

    def node(self, node_id: int) -> ClusterNode:
        return next(node for node in self.nodes if node.node_id == node_id)

    def add_node(self, node_id: int, zone: str) -> ClusterNode:
        """A node that joins the formed cluster later (started by the caller), through the founders' peer ports."""
        join = self.nodes[0].join
        node = ClusterNode(self.nodes[0].binary, self.nodes[0].dir.parent, node_id, free_port(), free_port(), join,
                           self.nodes[0].extra, zone=zone)
        self.nodes.append(node)
        return node

    def leader_of(self, stream: str, shard: str, via: Optional[ClusterNode] = None,
                  timeout: float = 10.0) -> int:
        """The node id leading a shard, as a live node sees it (waits through elections)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for node in ([via] if via else [n for n in self.nodes if n.alive()]):
                try:
                    for group in node.status()["groups"]:
                        if group.get("stream") == stream and group.get("shardId") == shard and group["leader"]:
                            leader = group["leader"]
                            if self.node(leader).alive():
                                return leader
                except (urllib.error.URLError, OSError):
                    continue
            time.sleep(0.05)
        raise AssertionError(f"no live leader for {stream}/{shard} within {timeout}s")

    def wait_converged(self, timeout: float = 60.0) -> dict:
        """Waits until every live node holds the same records for every shard; returns the checksums."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            sums = {n.node_id: n.checksums() for n in self.nodes if n.alive()}
            by_shard: dict[tuple[str, str], set] = {}
            for data in sums.values():
                for shard in data["shards"]:
                    by_shard.setdefault((shard["streamId"], shard["shardId"]), set()).add(
                        (shard["applied"], shard["sha256"]))
            counts = {key: len(values) for key, values in by_shard.items()}
            holders = {key: sum(1 for d in sums.values() for s in d["shards"]
                                if (s["streamId"], s["shardId"]) == key) for key in by_shard}
            if by_shard and all(v == 1 for v in counts.values()) and all(h == len(sums) for h in holders.values()):
                return sums
            last = sums
            time.sleep(0.2)
        raise AssertionError(f"replicas did not converge within {timeout}s: {json.dumps(last)[:2000]}")


    def wait_converged_by_placement(self, timeout: float = 60.0) -> dict:
        """Like wait_converged, when not every node holds every shard: every shard's copies agree and each shard
        has as many copies as its group has voters."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            live = [n for n in self.nodes if n.alive()]
            sums = {n.node_id: n.checksums() for n in live}
            voters = {}
            for node in live:
                for group in node.status()["groups"]:
                    if group.get("shardId") and group["role"] == "leader":
                        voters[(group["streamId"], group["shardId"])] = len(group["voters"])
            by_shard: dict[tuple[str, str], list] = {}
            for data in sums.values():
                for shard in data["shards"]:
                    by_shard.setdefault((shard["streamId"], shard["shardId"]), []).append(
                        (shard["applied"], shard["sha256"]))
            if by_shard and all(len(set(copies)) == 1 and len(copies) == voters.get(key)
                                for key, copies in by_shard.items()):
                return sums
            last = (sums, voters)
            time.sleep(0.2)
        raise AssertionError(f"replicas did not converge within {timeout}s: {json.dumps(str(last))[:2000]}")


    def placement_problems(self) -> list[str]:
        """What breaks the placement invariant in the live nodes' /admin/status: every shard group has the same
        voters on every node that holds it, as many as there are members up to three, in distinct zones, never
        a node alone; every copy is held by each of its voters that is alive; no node reports a violation."""
        live = [n for n in self.nodes if n.alive()]
        statuses = {n.node_id: n.status() for n in live}
        zones: dict[int, str] = {}
        members = 0
        for status in statuses.values():
            nodes = [m for m in status.get("members", []) if m["role"] == "node" and m["state"] != "left"]
            members = max(members, len(nodes))
            for member in status.get("members", []):
                zones[member["id"]] = member["zone"]
        wanted = min(3, members)
        problems: list[str] = []
        views: dict[tuple[str, str], dict[int, list[int]]] = {}
        for node_id, status in statuses.items():
            for violation in status.get("placementViolations", []):
                problems.append(f"node {node_id} reports {violation}")
            for group in status["groups"]:
                if not group.get("shardId"):
                    continue
                key = (group["stream"], group["shardId"])
                voters = sorted(group["voters"])
                views.setdefault(key, {})[node_id] = voters
                if voters == [node_id] and wanted > 1:
                    problems.append(f"{key} is led by node {node_id} alone")
                elif len(voters) != wanted:
                    problems.append(f"{key} on node {node_id} has voters {voters}, wants {wanted}")
                elif len({zones.get(v) for v in voters}) != min(wanted, len(set(zones.values()))):
                    problems.append(f"{key} on node {node_id} has voters {voters} in zones {[zones.get(v) for v in voters]}")
        live_ids = set(statuses)
        for key, by_node in views.items():
            if len({tuple(v) for v in by_node.values()}) > 1:
                problems.append(f"{key}: nodes disagree on voters {by_node}")
            voters = next(iter(by_node.values()))
            missing = [v for v in voters if v in live_ids and v not in by_node]
            if missing:
                problems.append(f"{key}: voters {missing} are alive but hold no copy")
        return problems

    def assert_placement(self, timeout: float = 30.0) -> None:
        """Waits until the placement invariant holds on the live nodes (moves and heals settle first)."""
        deadline = time.monotonic() + timeout
        problems: list[str] = []
        while time.monotonic() < deadline:
            try:
                problems = self.placement_problems()
            except (urllib.error.URLError, OSError) as error:
                problems = [f"status unreadable: {error}"]
            if not problems:
                return
            time.sleep(0.2)
        raise AssertionError("placement invariant does not hold:\n" + "\n".join(problems[:40]))


class ClusterRouter(ClusterNode):
    """A `rill router` process in front of a Cluster's nodes; restarted, killed and paused like a node."""

    ROUTER_ID = 1000

    def __init__(self, binary: Path, workdir: Path, join: list[str], extra: Optional[list[str]] = None):
        super().__init__(binary, workdir, self.ROUTER_ID, free_port(), free_port(), join, extra or [])

    def command(self) -> list[str]:
        return [str(self.binary), "router", "--id", str(self.node_id), "--api", f"127.0.0.1:{self.api_port}",
                "--peer", f"127.0.0.1:{self.peer_port}", "--join", ",".join(self.join), *self.extra]

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.alive(), f"router exited\n{self.log_tail()}"
            if self.ready():
                return
            time.sleep(0.05)
        raise AssertionError(f"router not ready in time\n{self.log_tail()}")


def member_states(member: ClusterNode) -> dict[int, str]:
    """Member id -> gossip state ('alive', 'suspect', 'dead', 'left') in `member`'s view."""
    return {m["id"]: m["state"] for m in member.status()["members"]}


@contextlib.contextmanager
def cluster_with_router(binary: Path, workdir: Path, extra: Optional[list[str]] = None,
                        node_extra: Optional[list[str]] = None):
    """Three nodes and a router, started together as `rill up` does; on a clean exit the placement invariant must
    hold; everything is stopped either way. `extra` goes to every process, `node_extra` to the nodes only."""
    cluster = Cluster(binary, workdir, extra=(extra or []) + (node_extra or []))
    router = ClusterRouter(binary, workdir, cluster.nodes[0].join, extra=extra)
    router.start()
    try:
        cluster.start()
        router.wait_ready()
        yield cluster, router
        cluster.assert_placement(timeout=60)
    finally:
        router.stop()
        cluster.stop()
