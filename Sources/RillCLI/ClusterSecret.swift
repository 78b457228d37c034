import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `--cluster-secret-file`, shared by nodes and routers: the secret every peer connection's hello proves
/// (`HelloProof`). The file holds the secret as text (e.g. 64 hex digits); surrounding whitespace is ignored.
struct ClusterSecretOptions: ParsableArguments {
    @Option(
        name: .customLong("cluster-secret-file"),
        help:
            "File holding the cluster secret (at least 32 characters, e.g. `openssl rand -hex 32`); peers and routers must all be given the same one, and a peer that cannot prove it is refused at the handshake. `rill up` makes one in its data directory."
    )
    var clusterSecretFile: String?

    /// The secret's bytes, or nil without the flag.
    func load() throws -> [UInt8]? {
        guard let clusterSecretFile else { return nil }
        let text: String
        do {
            text = try String(contentsOfFile: clusterSecretFile, encoding: .utf8)
        } catch {
            throw ValidationError(
                "cannot read --cluster-secret-file \(clusterSecretFile): \(error.localizedDescription)"
            )
        }
        let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard secret.utf8.count >= ClusterSecret.minimumLength else {
            throw ValidationError(
                "--cluster-secret-file \(clusterSecretFile) must hold at least \(ClusterSecret.minimumLength) characters"
            )
        }
        return Array(secret.utf8)
    }
}

enum ClusterSecret {
    static let minimumLength = 32

    /// The secret file at `path`, created with 32 random bytes in hex (mode 0600) unless it exists.
    static func prepare(at path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else { return }
        let hex = (0..<32).map { _ in UInt8.random(in: .min ... .max) }
            .map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        guard
            FileManager.default.createFile(
                atPath: path,
                contents: Data((hex + "\n").utf8),
                attributes: [.posixPermissions: 0o600]
            )
        else { throw ValidationError("cannot create the cluster secret \(path)") }
    }
}
