"""TLS on the API port: `rill up --tls` makes a local CA and a server certificate under its data directory
(DATA_DIR/tls/ca.pem, printed at start) and serves HTTPS — HTTP/1.1 and HTTP/2 by ALPN — on the router's port
and every node's. The aws CLI and boto3 with the CA bundle, through the router and straight to a node;
SubscribeToShard over HTTP/2 and TLS (the router relays it to a node over TLS); `rill status` over https; the
same certificates after a restart."""

from __future__ import annotations

import base64
import json
import signal
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from conftest import REGION, create_stream, run_cli, shard_id
from h2client import H2Client, event_payloads
from conftest import free_port_block


class TLSUp:
    """`rill up --tls --fault-injection` on a free block of ports."""

    def __init__(self, binary: Path, workdir: Path):
        self.binary, self.workdir = binary, workdir
        self.data = workdir / "data"
        self.port = free_port_block(4)
        self.peer = free_port_block(4)
        self.log_path = workdir / "up.log"
        self.proc = None

    @property
    def ca(self) -> str:
        return str(self.data / "tls" / "ca.pem")

    def endpoint(self, index: int = 0) -> str:
        return f"https://127.0.0.1:{self.port + index}"

    def start(self, timeout: float = 90.0) -> None:
        # Only this start's banner counts: a restart appends to the same log.
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(self.binary), "up", "--tls", "--fault-injection", "--data-dir", str(self.data), "--port",
             str(self.port), "--peer-port", str(self.peer)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=str(self.workdir))
        log.close()
        deadline = time.monotonic() + timeout
        while "press Ctrl-C to stop" not in self.log_path.read_bytes()[offset:].decode(errors="replace"):
            assert self.proc.poll() is None, f"rill up --tls exited ({self.proc.returncode})\n{self.tail()}"
            assert time.monotonic() < deadline, f"rill up --tls not up in {timeout}s\n{self.tail()}"
            time.sleep(0.1)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=60)

    def tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-60:])

    def client(self, index: int = 0):
        return boto3.client("kinesis", endpoint_url=self.endpoint(index), region_name=REGION, verify=self.ca,
                            aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                            config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=60))

    def post(self, index: int, path: str, body: dict) -> int:
        context = ssl.create_default_context(cafile=self.ca)
        request = urllib.request.Request(self.endpoint(index) + path, data=json.dumps(body).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=5, context=context) as r:
            return r.status


@pytest.fixture(scope="module")
def tls_up(rill_bin, tmp_path_factory):
    up = TLSUp(rill_bin, tmp_path_factory.mktemp("rill-up-tls"))
    up.start()
    yield up
    if up.proc.poll() is None:
        assert up.stop() == 0, up.tail()


def test_up_prints_the_ca_and_https_endpoints(tls_up):
    text = tls_up.log_path.read_text()
    assert tls_up.ca in text and f"https://127.0.0.1:{tls_up.port}" in text
    pem = Path(tls_up.ca).read_text()
    assert pem.startswith("-----BEGIN CERTIFICATE-----")


def test_aws_cli_lists_streams_over_https_through_the_router_and_a_node(tls_up):
    create_stream(tls_up.client(), "tls-cli", shards=1)
    for index in (0, 1, 3):
        proc = run_cli(tls_up.endpoint(index), "list-streams", "--ca-bundle", tls_up.ca)
        assert proc.returncode == 0, proc.stderr
        assert "tls-cli" in json.loads(proc.stdout)["StreamNames"]
    # Without the CA the certificate is not trusted.
    proc = run_cli(tls_up.endpoint(0), "list-streams")
    assert proc.returncode != 0 and "CERTIFICATE_VERIFY_FAILED" in proc.stderr


def test_boto3_over_https(tls_up):
    router, node = tls_up.client(0), tls_up.client(2)
    create_stream(router, "tls-boto3", shards=2)
    router.put_record(StreamName="tls-boto3", PartitionKey="k", Data=b"secret sauce", ExplicitHashKey="0")
    iterator = node.get_shard_iterator(StreamName="tls-boto3", ShardId=shard_id(0),
                                       ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert [r["Data"] for r in node.get_records(ShardIterator=iterator)["Records"]] == [b"secret sauce"]


def test_rill_status_over_https(tls_up, rill_bin):
    proc = subprocess.run([str(rill_bin), "status", "--endpoint", tls_up.endpoint(0), "--ca-bundle", tls_up.ca],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    # Every node's own /admin/status answered over https. (The router's row reads "unreachable" over http too: its
    # random id is above Int.max and rill status loses it; not a TLS matter.)
    rows = [line.split() for line in proc.stdout.splitlines() if len(line.split()) > 2 and line.split()[1] == "node"]
    assert len(rows) == 3 and all(row[7] == "up" for row in rows), proc.stdout


def register_consumer(client, stream: str, name: str) -> str:
    arn = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    consumer = client.register_stream_consumer(StreamARN=arn, ConsumerName=name)["Consumer"]["ConsumerARN"]
    deadline = time.monotonic() + 30
    while client.describe_stream_consumer(ConsumerARN=consumer)["ConsumerDescription"]["ConsumerStatus"] != "ACTIVE":
        assert time.monotonic() < deadline, "consumer not ACTIVE"
        time.sleep(0.05)
    return consumer


def records_of(stream) -> list[bytes]:
    out = []
    for kind, payload in event_payloads(stream):
        if kind == "SubscribeToShardEvent":
            out += [base64.b64decode(r["Data"]) for r in payload["Records"]]
    return out


@pytest.mark.parametrize("door", [0, 1], ids=["router", "node"])
def test_subscribe_to_shard_over_h2_and_tls(tls_up, door):
    """Through the router (relayed to a node over TLS) and straight to a node: every record put during the
    subscription arrives in order, a second subscription is refused, and the stream ends after its lifetime."""
    kinesis = tls_up.client(door)
    name = create_stream(kinesis, f"tls-fanout-{door}", shards=1)
    consumer = register_consumer(kinesis, name, "tls")
    client = H2Client(tls_up.port + door, ca=tls_up.ca)
    try:
        body = {"ConsumerARN": consumer, "ShardId": shard_id(0), "StartingPosition": {"Type": "LATEST"}}
        first = client.start("SubscribeToShard", body)
        client.pump_until(lambda: first.messages, 20, "initial response")
        assert first.status == 200 and event_payloads(first)[0][0] == "initial-response"
        second = client.call("SubscribeToShard", body, timeout=20)
        assert second.status == 400 and second.json()["__type"] == "ResourceInUseException", second.body
        sent = [f"tls-{i}".encode() for i in range(200)]
        for start in range(0, len(sent), 50):
            kinesis.put_records(StreamName=name, Records=[{"Data": d, "PartitionKey": "k"} for d in sent[start:start + 50]])
        client.pump_until(lambda: len(records_of(first)) >= len(sent), 30, "every record")
        assert records_of(first) == sent
        # Five minutes later by every node's clock, the subscription is over. (The clocks stay ahead: a jump back
        # would move record timestamps backwards for the tests after this one.)
        for index in (1, 2, 3):
            assert tls_up.post(index, "/admin/faults", {"clock": {"jumpMillis": 300_001}}) == 200
        client.pump_until(lambda: first.done, 20, "the end of the subscription")
        assert first.ended and first.reset is None
    finally:
        client.close()


def test_a_restart_keeps_the_certificates(tls_up):
    files = {name: (Path(tls_up.data) / "tls" / name).read_bytes() for name in ("ca.pem", "server.pem", "server-key.pem")}
    assert tls_up.stop() == 0, tls_up.tail()
    tls_up.start()
    after = {name: (Path(tls_up.data) / "tls" / name).read_bytes() for name in files}
    assert after == files
    assert "tls-cli" in tls_up.client(0).list_streams()["StreamNames"]
