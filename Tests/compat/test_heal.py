"""A cluster written by an older build, holding shards that were never placed, is healed by this build (issue 14).

The fixture (`fixtures/unplaced-cluster.tar.gz`, made by `fixtures/make_unplaced_cluster.py` with the build
before the fix) holds stream `unplaced`, whose two shards every node led alone: each node acknowledged its own
records into its own copy. This build keeps, for each shard, the copy of the node its placement makes
preferred leader; the other nodes move their copies to `quarantine/` and catch up from the kept one. Stream
`placed`, created once the cluster had settled, was replicated all along and keeps everything.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import time
from pathlib import Path

from cluster import Cluster
from conftest import DEFAULT_BIN, read_shard, wait_active

BINARY = Path(os.environ.get("RILL_BIN", DEFAULT_BIN))
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARDS = ("shardId-000000000000", "shardId-000000000001")


def restore_fixture(cluster: Cluster, scratch: Path) -> None:
    """Unpacks each node's data directory and points the recorded founders at this run's ports."""
    with tarfile.open(FIXTURES / "unplaced-cluster.tar.gz") as tar:
        tar.extractall(scratch, filter="data")
    addresses = {n.node_id: (f"127.0.0.1:{n.peer_port}", f"127.0.0.1:{n.api_port}") for n in cluster.nodes}
    for node in cluster.nodes:
        shutil.rmtree(node.data_dir)
        shutil.move(str(scratch / f"node-{node.node_id}"), str(node.data_dir))
        identity_path = node.data_dir / "node.json"
        identity = json.loads(identity_path.read_text())
        for voter in identity["cluster"]["voters"]:
            voter["peer"], voter["api"] = addresses[voter["id"]]
        identity_path.write_text(json.dumps(identity))


def test_an_older_builds_unplaced_shards_are_healed_from_one_kept_copy(tmp_path):
    manifest = json.loads((FIXTURES / "unplaced-cluster.json").read_text())
    # The fixture's records expire like any others (the first fixture kept 24 hours and this test failed the
    # next day, reading nothing back): it keeps the longest retention, and says when that has run out.
    age_hours = (time.time() * 1000 - manifest["writtenMillis"]) / 3_600_000
    assert age_hours < manifest["retentionHours"] - 24, (
        f"the fixture's records are {age_hours:.0f} hours old, past its streams' {manifest['retentionHours']}-hour "
        "retention: make it again with fixtures/make_unplaced_cluster.py")
    cluster = Cluster(BINARY, tmp_path / "cluster")
    restore_fixture(cluster, tmp_path / "fixture")
    try:
        cluster.start()
        cluster.assert_placement(timeout=60)
        client = cluster.node(1).client()
        wait_active(client, "unplaced", timeout=30)
        cluster.wait_converged(timeout=60)

        # Each shard holds exactly what one node acknowledged into it, the same through every node.
        acked: dict[str, dict[str, set[str]]] = {}
        for node_id, lines in manifest["unplaced"].items():
            for line in lines:
                shard, data = line.split(" ", 1)
                acked.setdefault(shard, {}).setdefault(node_id, set()).add(data)
        kept: dict[str, str] = {}
        for node in cluster.nodes:
            reader = node.client()
            for shard in SHARDS:
                seen = {r["Data"].decode() for r in read_shard(reader, "unplaced", shard)}
                owners = [owner for owner, records in acked[shard].items() if records == seen]
                assert len(owners) == 1, f"{shard} via node {node.node_id} holds {sorted(seen)}"
                assert kept.setdefault(shard, owners[0]) == owners[0], "nodes serve different copies"

        # The others' copies are set aside, not deleted.
        for shard, owner in kept.items():
            for node in cluster.nodes:
                quarantined = list(node.data_dir.glob(f"quarantine/*/{shard}-*"))
                if str(node.node_id) == owner:
                    assert not quarantined, f"node {owner} kept its copy of {shard} and set nothing aside"
                else:
                    assert len(quarantined) == 1, f"node {node.node_id}: {quarantined}"
                    assert any(p.suffix == ".log" for p in quarantined[0].iterdir())
                    assert "diverged from the copy kept" in node.log_path.read_text()

        # The stream that was replicated all along lost nothing.
        placed = set()
        for shard in SHARDS:
            placed.update(r["Data"].decode() for r in read_shard(client, "placed", shard))
        assert placed == set(manifest["placed"])

        # No further divergence: new records reach every copy.
        for i in range(20):
            client.put_record(StreamName="unplaced", Data=f"after-heal-{i}".encode(), PartitionKey=f"key-{i}")
        sums = cluster.wait_converged(timeout=60)
        assert sums
        for node in cluster.nodes:
            reader = node.client()
            seen = set()
            for shard in SHARDS:
                seen.update(r["Data"].decode() for r in read_shard(reader, "unplaced", shard))
            assert {f"after-heal-{i}" for i in range(20)} <= seen

        # A restart of the whole cluster sets nothing aside again.
        for node in cluster.nodes:
            node.stop()
        cluster.start()
        cluster.assert_placement(timeout=60)
        for node in cluster.nodes:
            expected = sum(1 for owner in kept.values() if owner != str(node.node_id))
            assert len(list(node.data_dir.glob("quarantine/*/*"))) == expected
    finally:
        cluster.stop()
