import ArgumentParser
import RillTLS
import RillTransport

/// `--peer-ca`, `--peer-cert` and `--peer-key`, shared by nodes and routers: mutual TLS on every peer connection
/// (Raft, gossip, forwarded calls) under the cluster's CA (docs/security.md). `rill cert` makes the files;
/// `rill up` makes and passes them itself.
struct PeerTLSOptions: ParsableArguments {
    @Option(
        name: .customLong("peer-ca"),
        help:
            "PEM certificate of the cluster CA: peers must present a certificate it signed, and only it is trusted on the peer port. Needs --peer-cert and --peer-key."
    )
    var ca: String?

    @Option(
        name: .customLong("peer-cert"),
        help:
            "PEM certificate (chain, leaf first) this process presents to peers, signed by --peer-ca (`rill cert issue`)."
    )
    var certificate: String?

    @Option(name: .customLong("peer-key"), help: "PEM private key of --peer-cert.")
    var key: String?

    var isSet: Bool { ca != nil }

    func validate() throws {
        let given = [ca, certificate, key].filter { $0 != nil }.count
        guard given == 0 || given == 3 else {
            throw ValidationError("--peer-ca, --peer-cert and --peer-key go together")
        }
    }

    /// The contexts, or nil for plaintext peers; a file that cannot be read is a usage error.
    func contexts() throws -> PeerTLSContexts? {
        guard let ca, let certificate, let key else { return nil }
        do {
            let (server, client) = try PeerTLS.contexts(caFile: ca, certificateFile: certificate, keyFile: key)
            return PeerTLSContexts(server: server, client: client)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
