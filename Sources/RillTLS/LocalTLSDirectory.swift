import Foundation

/// The files `rill up --tls` keeps under `DATA_DIR/tls`: `ca.pem` (what clients trust), `ca-key.pem`,
/// `server.pem` and `server-key.pem` (what nodes and the router serve with). Keys are written mode 0600.
///
/// A restart reuses them: the CA always, once made, so clients keep trusting the same file; the server
/// certificate while it names every host asked for and has a month left, else a new one from the same CA.
public struct LocalTLSDirectory: Sendable {
    private let folder: CertificateDirectory

    public init(path: String) { folder = CertificateDirectory(path: path) }

    public var path: String { folder.path }
    public var caCertificate: String { folder.caCertificate }
    public var serverCertificate: String { folder.certificate("server") }
    public var serverKey: String { folder.key("server") }

    /// What `prepare` did, for the start-up banner.
    public enum Outcome: Sendable, Equatable {
        case reused
        case newServerCertificate
        case newCA
    }

    /// Makes sure the directory holds a CA and a server certificate for `hosts` valid at `now`.
    public func prepare(hosts: [String], now: Date = Date()) throws -> Outcome {
        let (ca, newCA) = try folder.prepareCA(named: "Rill local CA", now: now)
        let newServer = try folder.prepare("server", hosts: hosts, usage: .server, signedBy: ca, now: now)
        return newCA ? .newCA : newServer ? .newServerCertificate : .reused
    }
}

/// A TLS file that cannot be read, parsed or written, named in the message.
public struct TLSFileError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
