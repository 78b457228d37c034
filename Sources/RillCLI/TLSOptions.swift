import ArgumentParser
import NIOSSL
import RillTLS

/// `--tls-cert` and `--tls-key`: HTTPS (HTTP/1.1 and HTTP/2 by ALPN) on the API and admin addresses.
struct TLSOptions: ParsableArguments {
    @Option(
        name: .customLong("tls-cert"),
        help: "PEM certificate chain (leaf first) to serve HTTPS with on --api and --admin; needs --tls-key."
    )
    var certificate: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.")
    var key: String?

    func validate() throws {
        if (certificate == nil) != (key == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
    }

    /// The server context, or nil for cleartext; a file that cannot be read is a usage error.
    func serverContext() throws -> NIOSSLContext? {
        guard let certificate, let key else { return nil }
        do {
            return try APITLS.serverContext(certificateFile: certificate, keyFile: key)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// The flags again, for a child process.
    var forwardedArguments: [String] {
        guard let certificate, let key else { return [] }
        return ["--tls-cert", certificate, "--tls-key", key]
    }
}
