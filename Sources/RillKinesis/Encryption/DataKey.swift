import Crypto
import Foundation

/// A stream's data key as the catalog holds it: 256 random bits sealed (AES-256-GCM) under one version of a
/// master key of the key store, bound to the stream's id so it cannot be moved to another stream. Never stored
/// in the clear; each node unwraps it with its own key store.
public struct WrappedDataKey: Codable, Sendable, Equatable {
    /// The master key's id (not an alias: aliases move).
    public var masterKeyId: String
    public var masterVersion: Int
    /// Nonce, ciphertext and tag (`AES.GCM.SealedBox.combined`).
    public var sealed: [UInt8]

    public init(masterKeyId: String, masterVersion: Int, sealed: [UInt8]) {
        self.masterKeyId = masterKeyId
        self.masterVersion = masterVersion
        self.sealed = sealed
    }

    /// A fresh random data key for `streamID`, wrapped under the newest version of `master`; the plaintext key
    /// is returned too, for callers that use it at once.
    public static func generate(
        for streamID: String,
        under master: MasterKeyStore.Key
    ) -> (WrappedDataKey, SymmetricKey) {
        let dataKey = SymmetricKey(size: .bits256)
        return (wrap(dataKey, for: streamID, under: master, version: master.currentVersion), dataKey)
    }

    /// `dataKey` sealed under `version` of `master` (also how rotation re-wraps an existing data key).
    public static func wrap(
        _ dataKey: SymmetricKey,
        for streamID: String,
        under master: MasterKeyStore.Key,
        version: Int
    ) -> WrappedDataKey {
        let bytes = dataKey.withUnsafeBytes { Array($0) }
        let masterKey = SymmetricKey(data: master.versions[version - 1])
        // Sealing with a 256-bit key and a random nonce cannot fail.
        let box = try! AES.GCM.seal(bytes, using: masterKey, authenticating: context(streamID))
        return WrappedDataKey(masterKeyId: master.keyId, masterVersion: version, sealed: Array(box.combined!))
    }

    /// The data key, unwrapped with `store`. The errors say what is wrong, for the node's operator: the master
    /// key is missing from this node's store, disabled, or not the one that wrapped the data key.
    public func unwrap(for streamID: String, with store: MasterKeyStore) throws(KinesisError) -> SymmetricKey {
        guard let master = store.key(id: masterKeyId) else {
            throw KinesisError(
                .kmsAccessDenied,
                "The data key of this stream is wrapped by master key \(masterKeyId), which is not in this node's key store (--key-store)."
            )
        }
        guard master.enabled else {
            throw KinesisError(.kmsDisabled, "Master key \(masterKeyId) of this stream is disabled in the key store.")
        }
        guard masterVersion >= 1, masterVersion <= master.versions.count else {
            throw KinesisError(
                .kmsAccessDenied,
                "The data key of this stream is wrapped by version \(masterVersion) of master key \(masterKeyId); this node's key store holds \(master.versions.count) version(s)."
            )
        }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed)
            let bytes = try AES.GCM.open(
                box,
                using: SymmetricKey(data: master.versions[masterVersion - 1]),
                authenticating: Self.context(streamID)
            )
            return SymmetricKey(data: bytes)
        } catch {
            throw KinesisError(
                .kmsAccessDenied,
                "Master key \(masterKeyId) version \(masterVersion) in this node's key store does not open this stream's data key: the key store is not the one the cluster uses."
            )
        }
    }

    static func context(_ streamID: String) -> [UInt8] { Array("rill/data-key/\(streamID)".utf8) }
}
