import Foundation

/// The files `rill up --tls` keeps under `DATA_DIR/tls`: `ca.pem` (what clients trust), `ca-key.pem`,
/// `server.pem` and `server-key.pem` (what nodes and the router serve with). Keys are written mode 0600.
///
/// A restart reuses them: the CA always, once made, so clients keep trusting the same file; the server
/// certificate while it names every host asked for and has a month left, else a new one from the same CA.
public struct LocalTLSDirectory: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public var caCertificate: String { path + "/ca.pem" }
    var caKey: String { path + "/ca-key.pem" }
    public var serverCertificate: String { path + "/server.pem" }
    public var serverKey: String { path + "/server-key.pem" }

    /// What `prepare` did, for the start-up banner.
    public enum Outcome: Sendable, Equatable {
        case reused
        case newServerCertificate
        case newCA
    }

    /// Makes sure the directory holds a CA and a server certificate for `hosts` valid at `now`.
    public func prepare(hosts: [String], now: Date = Date()) throws -> Outcome {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var outcome = Outcome.reused
        var ca = read(caCertificate, caKey)
        if ca == nil {
            let made = try LocalCertificateAuthority.makeCA(now: now)
            try write(made, certificate: caCertificate, key: caKey)
            ca = made
            outcome = .newCA
        }
        guard let ca else { return outcome }
        if let server = read(serverCertificate, serverKey),
            LocalCertificateAuthority.serverCertificate(server, covers: hosts, signedBy: ca, now: now)
        {
            return outcome
        }
        let server = try LocalCertificateAuthority.makeServerCertificate(hosts: hosts, signedBy: ca, now: now)
        try write(server, certificate: serverCertificate, key: serverKey)
        return outcome == .newCA ? .newCA : .newServerCertificate
    }

    private func read(_ certificate: String, _ key: String) -> LocalCertificateAuthority.Issued? {
        guard let certificatePEM = try? String(contentsOfFile: certificate, encoding: .utf8),
            let keyPEM = try? String(contentsOfFile: key, encoding: .utf8)
        else { return nil }
        return LocalCertificateAuthority.Issued(certificatePEM: certificatePEM, privateKeyPEM: keyPEM)
    }

    /// The key first, private from the start, then the certificate: a crash between them leaves a key without a
    /// certificate, which the next start replaces.
    private func write(_ issued: LocalCertificateAuthority.Issued, certificate: String, key: String) throws {
        let manager = FileManager.default
        try? manager.removeItem(atPath: key)
        guard
            manager.createFile(
                atPath: key,
                contents: Data(issued.privateKeyPEM.utf8),
                attributes: [.posixPermissions: 0o600]
            )
        else {
            throw TLSFileError("cannot write \(key)")
        }
        try Data(issued.certificatePEM.utf8).write(to: URL(fileURLWithPath: certificate), options: .atomic)
    }
}

/// A TLS file that cannot be read, parsed or written, named in the message.
public struct TLSFileError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
