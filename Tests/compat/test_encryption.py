"""Encryption at rest (issue 17, part 3): StartStreamEncryption seals every record written from then on with
the stream's data key on the shard leader, before it proposes, so no node's data directory holds the plaintext;
reads open it where they are served; a node whose key store lacks the master key (or holds another) refuses
the stream's reads and says why. Three real `rill node` processes, boto3."""

from __future__ import annotations

import base64
import json
import os
import signal
import time
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from cluster import Cluster
from conftest import DEFAULT_BIN, read_shard, wait_active

BINARY = Path(os.environ.get("RILL_BIN", DEFAULT_BIN))


def write_key_store(path: Path, disabled_alias: str = "alias/off") -> dict:
    """A key store as `rill keys` writes it: the default alias, and a disabled key."""
    store = {"Keys": [
        {"KeyId": str(uuid.uuid4()), "Aliases": ["alias/aws/kinesis"], "Enabled": True,
         "Versions": [base64.b64encode(os.urandom(32)).decode()]},
        {"KeyId": str(uuid.uuid4()), "Aliases": [disabled_alias], "Enabled": False,
         "Versions": [base64.b64encode(os.urandom(32)).decode()]},
    ]}
    path.write_text(json.dumps(store))
    path.chmod(0o600)
    return store


def error_of(call) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["Error"]["Code"], info.value.response["Error"].get("Message", "")


def files_holding(roots: list[Path], needles: list[bytes]) -> list[str]:
    """Every file under `roots` that holds one of `needles` (what `grep -r` would find)."""
    found = []
    for root in roots:
        for folder, _, names in os.walk(root):
            for name in names:
                path = Path(folder) / name
                try:
                    content = path.read_bytes()
                except OSError:
                    continue
                for needle in needles:
                    if needle in content:
                        found.append(f"{path}: {needle!r}")
    return found


def read_all(client, stream: str) -> list[dict]:
    records = []
    for shard in client.list_shards(StreamName=stream)["Shards"]:
        records += read_shard(client, stream, shard["ShardId"], timeout=30)
    return records


def wait_readable(client, stream: str, timeout: float = 60.0) -> list[dict]:
    """Reads every shard once the cluster serves them again after a restart (leaders elected)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return read_all(client, stream)
        except ClientError as error:
            if error.response["Error"]["Code"].startswith("KMS") or time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def wait_refused(client, stream: str, timeout: float = 60.0) -> tuple[str, str]:
    """The KMS error reading the stream gives (waits through elections after a restart)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            read_all(client, stream)
            last = "read succeeded"
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code.startswith("KMS"):
                return code, error.response["Error"].get("Message", "")
            last = code
        time.sleep(0.2)
    raise AssertionError(f"reads were not refused within {timeout}s (last: {last})")


def test_records_encrypted_at_rest_across_a_restart(tmp_path):
    key_store = tmp_path / "key-store.json"
    write_key_store(key_store)
    cluster = Cluster(BINARY, tmp_path, extra=["--key-store", str(key_store)]).start()
    try:
        client = cluster.nodes[0].client()
        stream = "secrets"
        client.create_stream(StreamName=stream, ShardCount=2)
        wait_active(client, stream, timeout=30)

        # Unknown and disabled keys, by alias, id and ARN, as AWS answers them.
        code, _ = error_of(lambda: client.start_stream_encryption(
            StreamName=stream, EncryptionType="KMS", KeyId="alias/nope"))
        assert code == "KMSNotFoundException"
        code, _ = error_of(lambda: client.start_stream_encryption(
            StreamName=stream, EncryptionType="KMS", KeyId=f"arn:aws:kms:us-east-1:000000000000:key/{uuid.uuid4()}"))
        assert code == "KMSNotFoundException"
        code, _ = error_of(lambda: client.start_stream_encryption(
            StreamName=stream, EncryptionType="KMS", KeyId="alias/off"))
        assert code == "KMSDisabledException"
        summary = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
        assert summary["EncryptionType"] == "NONE"

        plain_before = b"PLAINBEFORE-" + uuid.uuid4().hex.encode()
        client.put_record(StreamName=stream, Data=plain_before, PartitionKey="before")

        client.start_stream_encryption(StreamName=stream, EncryptionType="KMS", KeyId="alias/aws/kinesis")
        summary = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
        assert summary["EncryptionType"] == "KMS" and summary["KeyId"] == "alias/aws/kinesis"

        token = uuid.uuid4().hex
        secret_data = [f"SECRETDATA-{token}-{i}".encode() for i in range(40)]
        secret_keys = [f"SECRETKEY-{token}-{i}" for i in range(40)]
        answer = client.put_record(StreamName=stream, Data=secret_data[0], PartitionKey=secret_keys[0])
        assert answer["EncryptionType"] == "KMS"
        batch = client.put_records(StreamName=stream, Records=[
            {"Data": d, "PartitionKey": k} for d, k in zip(secret_data[1:], secret_keys[1:])])
        assert batch["FailedRecordCount"] == 0 and batch["EncryptionType"] == "KMS"

        client.stop_stream_encryption(StreamName=stream, EncryptionType="KMS", KeyId="alias/aws/kinesis")
        assert client.describe_stream_summary(
            StreamName=stream)["StreamDescriptionSummary"]["EncryptionType"] == "NONE"
        plain_after = b"PLAINAFTER-" + token.encode()
        assert "EncryptionType" not in client.put_record(StreamName=stream, Data=plain_after, PartitionKey="after")

        expected = {plain_before, plain_after, *secret_data}
        records = read_all(client, stream)
        assert {r["Data"] for r in records} == expected
        assert {r["PartitionKey"] for r in records if r["Data"] in secret_data} == set(secret_keys)

        # Every copy (leader and followers) holds every entry; none holds the secrets, all hold the plain ones.
        cluster.wait_converged(timeout=60)
        data_dirs = [node.data_dir for node in cluster.nodes]
        assert files_holding(data_dirs, [token.encode() + b"-"]) == []
        assert len(files_holding(data_dirs, [plain_after])) >= 3

        # The whole cluster restarts: the records read back.
        cluster.stop()
        for node in cluster.nodes:
            node.start()
        cluster.wait_ready(timeout=60)
        client = cluster.nodes[1].client()
        records = wait_readable(client, stream)
        assert {r["Data"] for r in records} == expected

        # The key disabled in the store and every node told (SIGHUP): reads refuse; enabled again, they serve.
        store = json.loads(key_store.read_text())
        store["Keys"][0]["Enabled"] = False
        key_store.write_text(json.dumps(store))
        for node in cluster.nodes:
            os.kill(node.proc.pid, signal.SIGHUP)
        code, message = wait_refused(client, stream)
        assert code == "KMSDisabledException", message
        store["Keys"][0]["Enabled"] = True
        key_store.write_text(json.dumps(store))
        for node in cluster.nodes:
            os.kill(node.proc.pid, signal.SIGHUP)
        assert {r["Data"] for r in wait_readable(client, stream)} == expected

        # Nodes given another key store refuse the stream's reads, and say which key is missing; never garbage.
        other = tmp_path / "other-key-store.json"
        write_key_store(other)
        cluster.stop()
        for node in cluster.nodes:
            node.extra = ["--key-store", str(other)]
            node.start()
        cluster.wait_ready(timeout=60)
        client = cluster.nodes[2].client()
        code, message = wait_refused(client, stream)
        assert code == "KMSAccessDeniedException", message
        assert "key store" in message and store["Keys"][0]["KeyId"] in message, message
    finally:
        cluster.stop()


def test_a_node_alone_makes_its_key_store(server_factory):
    """Without --key-store a node makes one in its data directory (mode 0600) with alias/aws/kinesis."""
    server = server_factory().start()
    try:
        path = server.data_dir / "key-store.json"
        deadline = time.monotonic() + 30
        while not path.exists() and time.monotonic() < deadline:  # made as the node opens its data directory
            time.sleep(0.05)
        assert path.stat().st_mode & 0o777 == 0o600
        store = json.loads(path.read_text())
        assert any("alias/aws/kinesis" in key["Aliases"] for key in store["Keys"])
        client = server.client()
        client.create_stream(StreamName="alone", ShardCount=1)
        wait_active(client, "alone")
        client.start_stream_encryption(StreamName="alone", EncryptionType="KMS", KeyId=store["Keys"][0]["KeyId"])
        token = uuid.uuid4().hex.encode()
        client.put_record(StreamName="alone", Data=b"ALONE-" + token, PartitionKey="k")
        assert [r["Data"] for r in read_all(client, "alone")] == [b"ALONE-" + token]
        assert files_holding([server.data_dir], [token]) == []
    finally:
        server.stop()
