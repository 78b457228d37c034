import NIOSSL

/// TLS contexts for the API port: what nodes and routers serve with, and what their clients (the router's
/// SubscribeToShard relay, `rill bench`, `rill status`, `rill up`'s readiness probe) trust.
public enum APITLS {
    /// The protocols offered by ALPN, preferred first; a client that offers neither gets HTTP/1.1.
    public static let applicationProtocols = ["h2", "http/1.1"]

    /// A server context from PEM files: the certificate chain (leaf first) and its private key.
    public static func serverContext(certificateFile: String, keyFile: String) throws -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
        } catch {
            throw TLSFileError("cannot read a PEM certificate chain from \(certificateFile): \(error)")
        }
        do {
            key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        } catch {
            throw TLSFileError("cannot read a PEM private key from \(keyFile): \(error)")
        }
        guard !chain.isEmpty else { throw TLSFileError("\(certificateFile) holds no certificate") }
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
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            } catch {
                throw TLSFileError("cannot read PEM CA certificates from \(caFile): \(error)")
            }
        }
        return try NIOSSLContext(configuration: configuration)
    }
}
