import NIOSSL

/// TLS contexts for the peer port (Raft, gossip, forwarded calls): mutual TLS under the cluster's own CA.
///
/// Both ends present a certificate and both demand one, chained to the cluster CA and to nothing else (the
/// system's roots are not trusted, nor the CA of the API port). Host names are not checked: peers dial addresses
/// that gossip reported and that containers renumber, and what makes a peer a member is a certificate from the
/// cluster CA, which `rill up` and `rill cert` hand out only to nodes and routers. TLS 1.3 only: both ends are
/// Rill.
public enum PeerTLS {
    /// The server and client contexts from PEM files: the cluster CA, this process's certificate chain (leaf
    /// first) and its private key.
    public static func contexts(
        caFile: String,
        certificateFile: String,
        keyFile: String
    ) throws -> (server: NIOSSLContext, client: NIOSSLContext) {
        let roots = try PEMFiles.certificates(caFile, what: "the peer CA certificate")
        let chain = try PEMFiles.certificates(certificateFile)
        let key = try PEMFiles.privateKey(keyFile)

        var server = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
        var client = TLSConfiguration.makeClientConfiguration()
        client.certificateChain = chain.map { .certificate($0) }
        client.privateKey = .privateKey(key)
        server = mutual(server, trusting: roots)
        client = mutual(client, trusting: roots)
        return (try NIOSSLContext(configuration: server), try NIOSSLContext(configuration: client))
    }

    /// `configuration` demanding a peer certificate chained to `roots`, with TLS 1.3.
    private static func mutual(
        _ configuration: TLSConfiguration,
        trusting roots: [NIOSSLCertificate]
    )
        -> TLSConfiguration
    {
        var configuration = configuration
        configuration.minimumTLSVersion = .tlsv13
        configuration.trustRoots = .certificates(roots)
        // Required, not optional: BoringSSL fails a handshake whose peer sends no certificate in this mode.
        configuration.certificateVerification = .noHostnameVerification
        return configuration
    }
}
