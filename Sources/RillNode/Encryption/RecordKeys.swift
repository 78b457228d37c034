import Crypto
import Foundation
import RillKinesis
import Synchronization

/// The node's key store (`--key-store`, or `key-store.json` in its data directory) and the data keys it has
/// unwrapped: where records are sealed (the shard leader, before it proposes) and opened (where reads are
/// served). Reloaded on SIGHUP; a reload forgets every unwrapped data key, so a disabled or removed master key
/// stops reads and writes at once.
public final class RecordKeys: Sendable {
    public let path: String
    private let store: Mutex<MasterKeyStore>
    /// Unwrapped data keys by stream id and version (a stream's data keys are only ever added and ids are
    /// unique per incarnation, so an entry only goes stale by a reload).
    private let unwrapped = Mutex<[String: [UInt32: SharedKey]]>([:])

    public init(path: String, store: MasterKeyStore) {
        self.path = path
        self.store = Mutex(store)
    }

    /// The key store at `path`: read, or when `create` and there is none, made with a random key under
    /// `alias/aws/kinesis` (mode 0600).
    public static func open(path: String, create: Bool) throws -> RecordKeys {
        if create, !FileManager.default.fileExists(atPath: path) {
            var random = SystemRandomNumberGenerator()
            try write(MasterKeyStore.generated(using: &random), to: path)
        }
        return RecordKeys(path: path, store: try read(path))
    }

    public static func read(_ path: String) throws -> MasterKeyStore {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KeyStoreError.malformed("cannot read the key store \(path)")
        }
        do {
            return try MasterKeyStore(json: Array(data))
        } catch {
            throw KeyStoreError.malformed("key store \(path): \(error)")
        }
    }

    /// Writes `store` to `path` with mode 0600, replacing the file atomically.
    public static func write(_ store: MasterKeyStore, to path: String) throws {
        let temporary = path + ".tmp"
        guard
            FileManager.default.createFile(
                atPath: temporary,
                contents: Data(store.json()),
                attributes: [.posixPermissions: 0o600]
            )
        else { throw KeyStoreError.malformed("cannot write the key store \(temporary)") }
        guard rename(temporary, path) == 0 else {
            throw KeyStoreError.malformed("cannot replace the key store \(path) (errno \(errno))")
        }
    }

    /// Reads the file again; on error the previous keys stay in force. Returns the number of keys.
    public func reload() throws -> Int {
        let fresh = try Self.read(path)
        store.withLock { $0 = fresh }
        unwrapped.withLock { $0 = [:] }
        return fresh.keys.count
    }

    public var current: MasterKeyStore { store.withLock { $0 } }

    /// The data key of version `version` of a stream (its catalog entry), unwrapped once and then kept.
    func dataKey(streamID: String, version: UInt32, wrapped: WrappedDataKey) throws(KinesisError) -> SymmetricKey {
        if let shared = unwrapped.withLock({ $0[streamID]?[version] }) { return shared.key }
        let key = try wrapped.unwrap(for: streamID, with: current)
        unwrapped.withLock { $0[streamID, default: [:]][version] = SharedKey(key: key) }
        return key
    }

    /// Opens the sealed entries of `stream` (as the catalog here knows it).
    func opener(for stream: StreamMetadata) -> EntryOpener { EntryOpener(stream: stream, keys: self) }
}

/// Turns a stored `records` payload into plain records: at once for a plain one, through the stream's data
/// key for a sealed one. Never returns a record whose tag did not verify.
struct EntryOpener: Sendable {
    let stream: StreamMetadata
    let keys: RecordKeys

    func batch(_ payload: [UInt8], index: UInt64) throws(KinesisError) -> RecordBatch? {
        guard RecordBatch.isSealed(payload) else { return try? RecordBatch(decoding: payload) }
        guard let version = RecordBatch.dataKeyVersion(of: payload) else { return nil }
        let dataKeys = stream.dataKeys ?? []
        guard version >= 1, Int(version) <= dataKeys.count else {
            throw KinesisError(
                .kmsInvalidState,
                "Entry \(index) of stream \(stream.name) is sealed with data key version \(version), which this node's catalog does not hold yet; retry."
            )
        }
        let key = try keys.dataKey(streamID: stream.id, version: version, wrapped: dataKeys[Int(version) - 1])
        guard let plain = try? RecordBatch.open(payload, key: key, streamID: stream.id) else {
            throw KinesisError(
                .kmsInvalidState,
                "Entry \(index) of stream \(stream.name) failed authentication under data key version \(version): it is damaged or was sealed with another key; nothing of it is served."
            )
        }
        return try? RecordBatch(decoding: plain)
    }
}

/// A data key shared between threads: `SymmetricKey` is an immutable value that swift-crypto has not marked
/// Sendable; nothing mutates it after unwrapping.
private struct SharedKey: @unchecked Sendable {
    let key: SymmetricKey
}
