import ArgumentParser
import Foundation
import Logging
import RillAPI
import RillKinesis

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `--credentials-file` on nodes and routers: the keys requests must be signed with and, in the JSON form,
/// what each may do (`CredentialStore`).
enum Credentials {
    /// From `file`, else `RILL_CREDENTIALS` (`AKID:SECRET[,AKID:SECRET...]`), else none (signatures are then
    /// not checked and every call is allowed).
    static func load(file: String?, defaultAccount: String) throws -> KeyRing? {
        if let file { return KeyRing(try read(file: file), defaultAccount: defaultAccount) }
        guard let environment = ProcessInfo.processInfo.environment["RILL_CREDENTIALS"], !environment.isEmpty else {
            return nil
        }
        do {
            return KeyRing(try CredentialStore(parsing: environment), defaultAccount: defaultAccount)
        } catch {
            throw ValidationError("RILL_CREDENTIALS: \(error.reason)")
        }
    }

    /// Reads and checks a credentials file.
    static func read(file: String) throws -> CredentialStore {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw ValidationError("cannot read --credentials-file \(file): \(error.localizedDescription)")
        }
        do {
            return try CredentialStore(parsing: text)
        } catch {
            throw ValidationError("--credentials-file \(file): \(error.reason)")
        }
    }
}

/// Reloads the credentials file on SIGHUP, so keys and policies change without a restart. A file that does
/// not read or parse leaves the keys in force as they were.
struct CredentialsReload: Sendable {
    let file: String?
    let keys: KeyRing?
    let logger: Logger
    /// Made before the process serves, so a SIGHUP from then on reloads instead of ending the process.
    let signal = SignalWatcher(signals: [SIGHUP])

    /// Reloads on every SIGHUP until cancelled, and runs `also` (the node's key store) each time.
    func run(also: @Sendable () -> Void = {}) async {
        while await signal.next() == SIGHUP {
            reload()
            also()
        }
    }

    func reload() {
        guard let keys, let file else {
            logger.warning(
                "SIGHUP: nothing to reload",
                metadata: [
                    "reason":
                        "\(keys == nil ? "no credentials are configured" : "credentials came from RILL_CREDENTIALS")"
                ]
            )
            return
        }
        do {
            let store = try Credentials.read(file: file)
            keys.replace(store)
            logger.info("credentials reloaded", metadata: ["file": "\(file)", "keys": "\(store.users.count)"])
        } catch {
            logger.error(
                "credentials not reloaded; the previous keys stay in force",
                metadata: ["file": "\(file)", "error": "\(error)"]
            )
        }
    }
}
