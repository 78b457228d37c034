"""Mutual TLS between peers (docs/security.md): `rill up` makes a cluster CA and a certificate per node and router;
the peer ports take only connections that present one, and a node with a certificate from another CA is refused,
with a log line on both sides that says why. `rill cert` makes the same files for clusters run by hand."""

import subprocess

from conftest import create_stream, free_port, free_port_block, make_client, read_shard, shard_id, wait_for
from test_up import Up


def s_client(peer_port: int, *args: str) -> subprocess.CompletedProcess:
    """openssl s_client to a peer port, sending nothing. With -ign_eof it waits for the server to close (a refusal
    arrives as an alert after TLS 1.3's client-side handshake; a member's connection is closed after the peer
    protocol's own handshake timeout)."""
    return subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{peer_port}", "-tls1_3", *args],
                          input=b"", capture_output=True, timeout=20)


def test_peer_ports_take_only_certificates_from_the_cluster_ca(rill_bin, tmp_path):
    port, peer_base = free_port_block(), free_port_block()
    up = Up(rill_bin, tmp_path, port, extra=["--peer-port", str(peer_base)])
    up.start()
    try:
        wait_for(lambda: "rill is up" in up.tail(), 30, "rill up's banner")
        certs = tmp_path / "data" / "peer-tls"
        names = sorted(p.name for p in certs.iterdir())
        assert names == ["ca-key.pem", "ca.pem", "node-1-key.pem", "node-1.pem", "node-2-key.pem", "node-2.pem",
                         "node-3-key.pem", "node-3.pem", "router-key.pem", "router.pem"], names
        assert (certs / "ca-key.pem").stat().st_mode & 0o777 == 0o600

        # The cluster works over TLS: writes through the router are forwarded, replicated, read back.
        client = make_client(f"http://127.0.0.1:{port}")
        name = create_stream(client, shards=3)
        acks = [client.put_record(StreamName=name, Data=b"tls-%d" % i, PartitionKey=f"k{i}") for i in range(30)]
        got = [r["SequenceNumber"] for i in range(3) for r in read_shard(client, name, shard_id(i))]
        assert sorted(got, key=int) == sorted((a["SequenceNumber"] for a in acks), key=int)

        node1_peer = peer_base + 1
        # No client certificate: the handshake fails ("certificate required"), and the node logs the refusal.
        bare = s_client(node1_peer, "-ign_eof")
        assert bare.returncode != 0, bare.stdout.decode(errors="replace")[-2000:]
        assert b"certificate required" in bare.stdout + bare.stderr
        wait_for(lambda: "refusing peer connection: TLS handshake failed" in up.tail()
                 and "PEER_DID_NOT_RETURN_A_CERTIFICATE" in up.tail(), 10, "the node's log of the refusal")

        # The cluster's own certificate opens it; the node's certificate verifies against the cluster CA.
        member = s_client(node1_peer, "-cert", str(certs / "router.pem"), "-key", str(certs / "router-key.pem"),
                          "-CAfile", str(certs / "ca.pem"))
        assert member.returncode == 0, member.stderr.decode(errors="replace")[-2000:]
        assert b"Verification: OK" in member.stdout

        # A node with a certificate from another CA (and even the cluster secret) cannot join.
        other = tmp_path / "other"
        subprocess.run([str(rill_bin), "cert", "ca", "--dir", str(other)], check=True, capture_output=True)
        subprocess.run([str(rill_bin), "cert", "issue", "--dir", str(other), "--name", "intruder", "--host",
                        "127.0.0.1"], check=True, capture_output=True)
        intruder_log = tmp_path / "intruder.log"
        with open(intruder_log, "wb") as log:
            intruder = subprocess.Popen(
                [str(rill_bin), "node", "--id", "9", "--az", "az-a", "--data-dir", str(tmp_path / "intruder"),
                 "--api", f"127.0.0.1:{free_port()}", "--peer", f"127.0.0.1:{free_port()}",
                 "--join", f"127.0.0.1:{node1_peer}", "--cluster-secret-file", str(tmp_path / "data" / "cluster-secret"),
                 "--peer-ca", str(other / "ca.pem"), "--peer-cert", str(other / "intruder.pem"),
                 "--peer-key", str(other / "intruder-key.pem")],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            wait_for(lambda: "peer connection failed at the TLS handshake" in intruder_log.read_text(errors="replace")
                     and "CERTIFICATE_VERIFY_FAILED" in intruder_log.read_text(errors="replace"),
                     20, "the intruder's log of the failed handshake")
            wait_for(lambda: "TLSV1_ALERT_UNKNOWN_CA" in up.tail(), 20, "the cluster's log of the refused intruder")
            # Still three members, and the stream still takes writes.
            assert client.put_record(StreamName=name, Data=b"after", PartitionKey="k")["SequenceNumber"]
        finally:
            intruder.kill()
            intruder.wait(10)
    except BaseException:
        up.stop()
        raise
    assert up.stop() == 0, up.tail()


def test_rill_cert_issues_certificates_openssl_accepts(rill_bin, tmp_path):
    certs = tmp_path / "certs"
    made = subprocess.run([str(rill_bin), "cert", "ca", "--dir", str(certs)], capture_output=True, text=True, check=True)
    assert "made the CA" in made.stdout
    again = subprocess.run([str(rill_bin), "cert", "ca", "--dir", str(certs)], capture_output=True, text=True, check=True)
    assert "kept the CA" in again.stdout
    subprocess.run([str(rill_bin), "cert", "issue", "--dir", str(certs), "--name", "node-1", "--host", "rill-1",
                    "--host", "10.0.0.11"], check=True, capture_output=True)
    subprocess.run([str(rill_bin), "cert", "issue", "--dir", str(certs), "--name", "api", "--usage", "server",
                    "--host", "kinesis.example"], check=True, capture_output=True)
    ca = str(certs / "ca.pem")
    for purpose in ("sslserver", "sslclient"):
        ok = subprocess.run(["openssl", "verify", "-CAfile", ca, "-purpose", purpose, str(certs / "node-1.pem")],
                            capture_output=True, text=True)
        assert ok.returncode == 0, ok.stdout + ok.stderr
    server_only = subprocess.run(["openssl", "verify", "-CAfile", ca, "-purpose", "sslclient", str(certs / "api.pem")],
                                 capture_output=True, text=True)
    assert server_only.returncode != 0
    text = subprocess.run(["openssl", "x509", "-in", str(certs / "node-1.pem"), "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout
    assert "DNS:rill-1" in text and "IP Address:10.0.0.11" in text
    assert (certs / "node-1-key.pem").stat().st_mode & 0o777 == 0o600
    missing = subprocess.run([str(rill_bin), "cert", "issue", "--dir", str(tmp_path / "none"), "--name", "x"],
                             capture_output=True, text=True)
    assert missing.returncode != 0 and "rill cert ca" in missing.stderr
