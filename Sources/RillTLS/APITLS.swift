import NIOSSL

/// TLS contexts for the API port: what nodes and routers serve with, and what their clients (the router's
/// SubscribeToShard relay, `rill bench`, `rill status`, `rill up`'s readiness probe) trust.
public enum APITLS {
    /// The protocols offered by ALPN, preferred first; a client that offers neither gets HTTP/1.1.
    public static let applicationProtocols = ["h2", "http/1.1"]

    /// A server context from PEM files: the certificate chain (leaf first) and its private key.
    public static func serverContext(certificateFile: String, keyFile: String) throws -> NIOSSLContext {
        let chain = try PEMFiles.certificates(certificateFile)
        let key = try PEMFiles.privateKey(keyFile)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = applicationProtocols
        return try NIOSSLContext(configuration: configuration)
    }

    /// A client context that trusts the CAs in `caFile` (PEM), or the system's when nil, offering `protocols`.
    public static func clientContext(
        trusting caFile: String?,
        protocols: [String] = ["http/1.1"]
    ) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = protocols
        if let caFile {
            configuration.trustRoots = .certificates(try PEMFiles.certificates(caFile, what: "PEM CA certificates"))
        }
        return try NIOSSLContext(configuration: configuration)
    }
}
