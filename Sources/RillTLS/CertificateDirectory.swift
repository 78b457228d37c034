import Foundation

/// A folder of PEM files around one CA: `ca.pem` (what every party trusts), `ca-key.pem`, and for each name
/// `NAME.pem` with `NAME-key.pem`. `rill cert` writes it for clusters run by hand; `rill up` keeps two, one for its
/// API (`tls/`) and one for its peers (`peer-tls/`). Keys are written mode 0600, before their certificate.
public struct CertificateDirectory: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public var caCertificate: String { path + "/ca.pem" }
    public var caKey: String { path + "/ca-key.pem" }
    public func certificate(_ name: String) -> String { path + "/\(name).pem" }
    public func key(_ name: String) -> String { path + "/\(name)-key.pem" }

    /// The CA, read from the folder, or nil when it has none (or only half of one).
    public func readCA() -> LocalCertificateAuthority.Issued? { read(caCertificate, caKey) }

    /// The CA, made (and the folder created) unless the folder already holds one; `true` when it was made.
    @discardableResult
    public func prepareCA(named name: String, now: Date = Date()) throws -> (LocalCertificateAuthority.Issued, Bool) {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        if let ca = readCA() { return (ca, false) }
        let made = try LocalCertificateAuthority.makeCA(now: now, name: name)
        try write(made, certificate: caCertificate, key: caKey)
        return (made, true)
    }

    /// `name`'s certificate for `hosts`, kept while it still names every host, is signed by `ca` and has a month
    /// left, else issued anew; `true` when it was issued.
    @discardableResult
    public func prepare(
        _ name: String,
        hosts: [String],
        usage: LocalCertificateAuthority.Usage,
        signedBy ca: LocalCertificateAuthority.Issued,
        now: Date = Date()
    ) throws -> Bool {
        if let existing = read(certificate(name), key(name)),
            LocalCertificateAuthority.serverCertificate(existing, covers: hosts, signedBy: ca, now: now)
        {
            return false
        }
        try issue(name, hosts: hosts, usage: usage, signedBy: ca, now: now)
        return true
    }

    /// Issues `name`'s certificate, replacing any there was.
    public func issue(
        _ name: String,
        hosts: [String],
        usage: LocalCertificateAuthority.Usage,
        signedBy ca: LocalCertificateAuthority.Issued,
        now: Date = Date(),
        validity: TimeInterval = LocalCertificateAuthority.serverValidity
    ) throws {
        let issued = try LocalCertificateAuthority.makeCertificate(
            name: name,
            hosts: hosts,
            usage: usage,
            signedBy: ca,
            now: now,
            validity: validity
        )
        try write(issued, certificate: certificate(name), key: key(name))
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
