"""Shared fixtures for the Kinesis compatibility suite.

The suite drives a real `rill` process with boto3 and the aws CLI. One node is
started per session for most tests (streams get unique names); tests that need
their own process (durability, regions) use `RillServer` directly.

Binary: env RILL_BIN, default <repo>/.build/release/rill.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Callable, Optional, Sequence

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

REPO = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO / ".build" / "release" / "rill"

ACCOUNT = "000000000000"
REGION = "us-east-1"
HASH_MAX = 2**128 - 1

# Keep the user's AWS configuration out of the tests: no profiles, no config
# file (cli_binary_format, retry modes, endpoints...), explicit credentials.
_SANDBOX = Path(tempfile.mkdtemp(prefix="rill-compat-awscfg-"))
for _var in list(os.environ):
    if _var.startswith("AWS_"):
        del os.environ[_var]
os.environ["AWS_CONFIG_FILE"] = str(_SANDBOX / "config")
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = str(_SANDBOX / "credentials")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


# --------------------------------------------------------------------------
# Small helpers used across the test modules
# --------------------------------------------------------------------------


def unique_name(prefix: str = "s") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def md5_hash_key(partition_key: str) -> int:
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


def expected_ranges(n: int) -> list[tuple[int, int]]:
    """Hash ranges for a new stream of n shards (KINESIS-SEMANTICS 2.2)."""
    w = 2**128 // n
    ranges = [(i * w, (i + 1) * w - 1) for i in range(n)]
    ranges[-1] = (ranges[-1][0], HASH_MAX)
    return ranges


def shard_id(index: int) -> str:
    return f"shardId-{index:012d}"


def shard_for_hash(shards: list[dict], h: int) -> str:
    for s in shards:
        r = s["HashKeyRange"]
        if int(r["StartingHashKey"]) <= h <= int(r["EndingHashKey"]):
            return s["ShardId"]
    raise AssertionError(f"no shard covers hash key {h}")


def stream_arn(name: str, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:kinesis:{region}:{account}:stream/{name}"


def not_found_message(name: str, account: str = ACCOUNT) -> str:
    return f"Stream {name} under account {account} not found."


def assert_seq_shape(seq: str, shard_index: int) -> None:
    """56 decimal digits, 186 bits, version 2, shard index in bits 4..35 (KCL)."""
    assert isinstance(seq, str) and seq.isdigit(), seq
    assert len(seq) == 56, f"sequence number {seq} has {len(seq)} digits, expected 56"
    v = int(seq)
    assert v.bit_length() == 186, f"{seq}: bit length {v.bit_length()}, expected 186"
    assert (v >> 184) == 2, f"{seq}: version nibble {(v >> 184)}, expected 2"
    embedded = (v >> 4) & 0xFFFFFFFF
    assert embedded == shard_index, f"{seq}: encodes shard index {embedded}, expected {shard_index}"


def client_error(excinfo) -> tuple[str, str, int]:
    err = excinfo.value
    assert isinstance(err, ClientError), repr(err)
    e = err.response.get("Error", {})
    return e.get("Code"), e.get("Message"), err.response["ResponseMetadata"]["HTTPStatusCode"]


def expect_error(fn: Callable, code: str, message: Optional[str] = None, status: int = 400, **kwargs):
    """Call fn(**kwargs), require a ClientError with this code (and exact message)."""
    with pytest.raises(ClientError) as ei:
        fn(**kwargs)
    got_code, got_msg, got_status = client_error(ei)
    assert got_code == code, f"expected {code}, got {got_code}: {got_msg!r}"
    assert got_status == status, f"expected HTTP {status}, got {got_status}"
    if message is not None:
        assert got_msg == message, f"message mismatch:\n expected {message!r}\n got      {got_msg!r}"
    return got_msg


def wait_for(condition, timeout: float, what: str):
    """Polls `condition` until it returns something true (which is returned), failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"{what} not within {timeout}s (last: {last})")


def wait_active(client, name: str, timeout: float = 10.0) -> dict:
    """Poll DescribeStreamSummary until ACTIVE (deadline, no fixed sleep)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        if last["StreamStatus"] == "ACTIVE":
            return last
        time.sleep(0.05)
    raise AssertionError(f"stream {name} not ACTIVE within {timeout}s: {last}")


def create_stream(client, name: Optional[str] = None, shards: Optional[int] = 1, **kwargs) -> str:
    name = name or unique_name()
    params = dict(StreamName=name, **kwargs)
    if shards is not None:
        params["ShardCount"] = shards
    client.create_stream(**params)
    wait_active(client, name)
    return name


def list_all_shards(client, name: str) -> list[dict]:
    return client.list_shards(StreamName=name)["Shards"]


def read_shard(client, name: str, sid: str, iterator_type: str = "TRIM_HORIZON", timeout: float = 20.0,
               limit: Optional[int] = None, **kwargs) -> list[dict]:
    """Read a shard from a position to its tip; stop at an empty batch with MillisBehindLatest == 0."""
    it = client.get_shard_iterator(StreamName=name, ShardId=sid, ShardIteratorType=iterator_type, **kwargs)[
        "ShardIterator"
    ]
    out: list[dict] = []
    deadline = time.monotonic() + timeout
    while True:
        assert time.monotonic() < deadline, f"reading {name}/{sid} did not reach the tip in {timeout}s"
        params = {"ShardIterator": it}
        if limit is not None:
            params["Limit"] = limit
        resp = client.get_records(**params)
        out.extend(resp["Records"])
        assert "NextShardIterator" in resp, "open shard must always return NextShardIterator"
        it = resp["NextShardIterator"]
        if not resp["Records"] and resp.get("MillisBehindLatest", 0) == 0:
            return out


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = (int(x) for x in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


# Ports handed out in this test session. A port is never handed out twice, and every port comes from below the
# kernel's ephemeral range: a port picked by binding to 0 can be taken by any outgoing connection (a node's peer
# link, a client) before the node that was given it binds it, which is how a restarted node used to fail to come
# back at random.
_handed_out: set[int] = set()
_PORT_FLOOR = 10000


def free_port_block(n: int = 4) -> int:
    """A port P with P..P+n-1 free (`rill up` takes P for its router and the next ones for its nodes)."""
    low, _ = _ephemeral_range()
    ceiling = low if low - _PORT_FLOOR > 1000 else 65536
    rng = random.Random(os.getpid() ^ time.monotonic_ns())
    for _ in range(200):
        base = rng.randrange(_PORT_FLOOR, ceiling - n)
        ports = range(base, base + n)
        if any(p in _handed_out for p in ports):
            continue
        held = []
        try:
            for port in ports:
                t = socket.socket()
                held.append(t)
                t.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for t in held:
                t.close()
        _handed_out.update(ports)
        return base
    raise AssertionError("no free block of ports")


def free_port() -> int:
    return free_port_block(1)


# --------------------------------------------------------------------------
# Process management
# --------------------------------------------------------------------------

_LIVE_SERVERS: list["RillServer"] = []
_ALL_SERVERS: list["RillServer"] = []


class RillServer:
    """One `rill node` process on 127.0.0.1 with its own data dir and log file."""

    def __init__(self, binary: Path, workdir: Path, *, node_id: int = 1, az: str = "az-a",
                 region: Optional[str] = None, account_id: Optional[str] = None, extra_args: Sequence[str] = ()):
        self.binary = Path(binary)
        self.workdir = Path(workdir)
        self.data_dir = self.workdir / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.workdir / "server.log"
        self.node_id = node_id
        self.az = az
        self.region = region
        self.account_id = account_id
        self.extra_args = list(extra_args)
        self.proc: Optional[subprocess.Popen] = None
        self.port: Optional[int] = None
        self._log = None
        self.starts = 0
        self.last_used = time.monotonic()
        _ALL_SERVERS.append(self)

    # -- lifecycle ---------------------------------------------------------

    @property
    def endpoint(self) -> str:
        assert self.port is not None, "server not started"
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = [str(self.binary), "node", "--id", str(self.node_id), "--az", self.az,
               "--data-dir", str(self.data_dir), "--api", f"127.0.0.1:{self.port}"]
        if self.region:
            cmd += ["--region", self.region]
        if self.account_id:
            cmd += ["--account-id", self.account_id]
        return cmd + self.extra_args

    def start(self, timeout: float = 30.0) -> "RillServer":
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.port = free_port()
        self.starts += 1
        self.last_used = time.monotonic()
        self._log = open(self.log_path, "ab", buffering=0)
        self._log.write(f"\n===== start #{self.starts}: {' '.join(self.command())}\n".encode())
        self.proc = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=str(self.workdir))
        _LIVE_SERVERS.append(self)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"rill exited with {self.proc.returncode} before becoming ready\n{self.log_tail()}")
            try:
                # /health answers from the first moment; /ready only once the node serves Kinesis calls.
                with urllib.request.urlopen(self.endpoint + "/ready", timeout=1) as r:
                    if r.status == 200:
                        return
                    last = r.status
            except urllib.error.HTTPError as e:
                last = e.code
            except (urllib.error.URLError, ConnectionError, socket.timeout, OSError) as e:
                last = e
            time.sleep(0.05)
        self.kill()
        raise AssertionError(f"rill not ready within {timeout}s (last: {last})\n{self.log_tail()}")

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait for a clean exit; returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self._close_log()
            raise AssertionError(f"rill did not exit within {timeout}s of SIGTERM\n{self.log_tail()}")
        self._close_log()
        return rc

    def kill(self) -> None:
        """SIGKILL (kill -9): no chance to flush anything."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._close_log()

    def _close_log(self) -> None:
        self.last_used = time.monotonic()
        if self.proc is not None and self in _LIVE_SERVERS and self.proc.poll() is not None:
            _LIVE_SERVERS.remove(self)
        if self._log is not None:
            self._log.close()
            self._log = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 80) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return "(no server log)"
        return f"--- {self.log_path} (last {lines} lines) ---\n" + "\n".join(text[-lines:])

    # -- clients -----------------------------------------------------------

    def client(self, region: str = REGION, **config):
        return make_client(self.endpoint, region, **config)

    def cli(self, *args: str, region: str = REGION, timeout: float = 60.0) -> subprocess.CompletedProcess:
        return run_cli(self.endpoint, *args, region=region, timeout=timeout)


def make_client(endpoint: str, region: str = REGION, **config):
    cfg = dict(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=60)
    cfg.update(config)
    return boto3.client(
        "kinesis",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(**cfg),
    )


def run_cli(endpoint: str, *args: str, region: str = REGION, timeout: float = 60.0) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
        AWS_SECRET_ACCESS_KEY="secret",
        AWS_PAGER="",
        AWS_MAX_ATTEMPTS="1",
    )
    cmd = ["aws", "kinesis", *args, "--endpoint-url", endpoint, "--region", region, "--output", "json"]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


def cli_json(proc: subprocess.CompletedProcess):
    assert proc.returncode == 0, f"aws CLI failed ({proc.returncode}): {proc.args}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    return json.loads(proc.stdout) if proc.stdout.strip() else None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def rill_bin() -> Path:
    path = Path(os.environ.get("RILL_BIN", str(DEFAULT_BIN)))
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(f"rill binary not found at {path}: build it (swift build -c release) or set RILL_BIN", pytrace=False)
    return path


@pytest.fixture(scope="session")
def server_factory(rill_bin, tmp_path_factory):
    """Creates (not starts) extra servers; any left running are killed at the end."""
    made: list[RillServer] = []

    def factory(**kwargs) -> RillServer:
        s = RillServer(rill_bin, tmp_path_factory.mktemp("rill-node"), **kwargs)
        made.append(s)
        return s

    yield factory
    for s in made:
        if s.alive():
            s.kill()


@pytest.fixture(scope="session")
def rill(rill_bin, tmp_path_factory) -> RillServer:
    """The shared node, started once per session and stopped with SIGTERM."""
    server = RillServer(rill_bin, tmp_path_factory.mktemp("rill-shared"))
    server.start()
    yield server
    rc = server.stop()
    assert rc == 0, f"shared rill exited with {rc} on SIGTERM\n{server.log_tail()}"


@pytest.fixture(scope="session")
def kinesis(rill):
    return rill.client()


@pytest.fixture
def stream(kinesis) -> str:
    """A fresh 1-shard stream."""
    return create_stream(kinesis, shards=1)


@pytest.fixture
def stream4(kinesis) -> str:
    """A fresh 4-shard stream."""
    return create_stream(kinesis, shards=4)


@pytest.fixture
def cli(rill):
    return rill.cli


@pytest.fixture
def assert_alive(rill, kinesis):
    """Call after a hostile request: the process must be up and still serve boto3."""

    def check():
        assert rill.alive(), f"rill died\n{rill.log_tail()}"
        resp = kinesis.list_streams(Limit=1)
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert "HasMoreStreams" in resp

    return check


# --------------------------------------------------------------------------
# Server log on failure
# --------------------------------------------------------------------------


_TEST_START = pytest.StashKey[float]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item.stash[_TEST_START] = time.monotonic()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        started = item.stash.get(_TEST_START, 0.0)
        for s in _ALL_SERVERS:
            if s.alive() or s.last_used >= started:
                report.sections.append((f"rill server log ({s.workdir.name})", s.log_tail()))
