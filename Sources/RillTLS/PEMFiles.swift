import NIOSSL

/// Reading the PEM files the TLS flags name, with errors that say which file and what was wrong.
enum PEMFiles {
    /// The certificates in `file`, in order (a chain: leaf first); at least one.
    static func certificates(_ file: String, what: String = "a PEM certificate chain") throws -> [NIOSSLCertificate] {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(file)
        } catch {
            throw TLSFileError("cannot read \(what) from \(file): \(error)")
        }
        guard !certificates.isEmpty else { throw TLSFileError("\(file) holds no certificate") }
        return certificates
    }

    /// The private key in `file`.
    static func privateKey(_ file: String) throws -> NIOSSLPrivateKey {
        do {
            return try NIOSSLPrivateKey(file: file, format: .pem)
        } catch {
            throw TLSFileError("cannot read a PEM private key from \(file): \(error)")
        }
    }
}
