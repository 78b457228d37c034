import Foundation

/// The local key store that stands in for KMS: master keys by key id, with aliases, an enabled flag and every
/// version of the key material (rotation adds one; older versions stay so data keys wrapped under them still
/// open). Parsed from, and written back to, the JSON file of `--key-store` (docs/security.md):
///
///     {"Keys": [{"KeyId": "…", "Aliases": ["alias/aws/kinesis"], "Enabled": true,
///                "Versions": ["<base64 of 32 random bytes>", …]}]}
///
/// Pure: the node reads and reloads the file, the CLI edits it.
public struct MasterKeyStore: Sendable, Equatable {
    public struct Key: Codable, Sendable, Equatable {
        public var keyId: String
        public var aliases: [String]
        public var enabled: Bool
        /// Version n is `versions[n - 1]`; the newest wraps new data keys.
        public var versions: [[UInt8]]

        public init(keyId: String, aliases: [String], enabled: Bool, versions: [[UInt8]]) {
            self.keyId = keyId
            self.aliases = aliases
            self.enabled = enabled
            self.versions = versions
        }

        public var currentVersion: Int { versions.count }

        enum CodingKeys: String, CodingKey {
            case keyId = "KeyId"
            case aliases = "Aliases"
            case enabled = "Enabled"
            case versions = "Versions"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let keyId = try container.decode(String.self, forKey: .keyId)
            self.keyId = keyId
            aliases = try container.decodeIfPresent([String].self, forKey: .aliases) ?? []
            enabled = try container.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
            let encoded = try container.decode([String].self, forKey: .versions)
            versions = try encoded.enumerated().map { offset, text in
                guard let bytes = Data(base64Encoded: text), bytes.count == 32 else {
                    throw KeyStoreError.malformed(
                        "key \(keyId) version \(offset + 1) is not the base64 of 32 bytes (AES-256)"
                    )
                }
                return Array(bytes)
            }
            guard !versions.isEmpty else { throw KeyStoreError.malformed("key \(keyId) has no Versions") }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(keyId, forKey: .keyId)
            try container.encode(aliases, forKey: .aliases)
            try container.encode(enabled, forKey: .enabled)
            try container.encode(versions.map { Data($0).base64EncodedString() }, forKey: .versions)
        }
    }

    /// The alias AWS gives its managed Kinesis key; a store always has it.
    public static let defaultAlias = "alias/aws/kinesis"

    public private(set) var keys: [Key]

    public init(keys: [Key]) throws(KeyStoreError) {
        var seenIds = Set<String>()
        var seenAliases = Set<String>()
        for key in keys {
            guard !key.keyId.isEmpty, !key.keyId.contains("/"), !key.keyId.contains(":") else {
                throw .malformed("key id '\(key.keyId)' must be non-empty, without '/' or ':'")
            }
            guard seenIds.insert(key.keyId).inserted else { throw .malformed("key id \(key.keyId) appears twice") }
            for alias in key.aliases {
                guard alias.hasPrefix("alias/"), alias.count > 6 else {
                    throw .malformed("alias '\(alias)' of key \(key.keyId) must start with alias/")
                }
                guard seenAliases.insert(alias).inserted else { throw .malformed("alias \(alias) appears twice") }
            }
        }
        guard seenAliases.contains(Self.defaultAlias) else {
            throw .malformed("no key has the alias \(Self.defaultAlias), which always exists")
        }
        self.keys = keys
    }

    /// A new store holding one random key under `alias/aws/kinesis`.
    public static func generated<G: RandomNumberGenerator>(using generator: inout G) -> MasterKeyStore {
        let key = Key(
            keyId: randomKeyId(using: &generator),
            aliases: [defaultAlias],
            enabled: true,
            versions: [randomMaterial(using: &generator)]
        )
        // One key with the default alias is always valid.
        return try! MasterKeyStore(keys: [key])
    }

    public init(json: [UInt8]) throws(KeyStoreError) {
        struct File: Decodable {
            var Keys: [Key]
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: Data(json))
        } catch let error as KeyStoreError {
            throw error
        } catch {
            throw .malformed("not a key store (\(error))")
        }
        try self.init(keys: file.Keys)
    }

    public func json() -> [UInt8] {
        struct File: Encodable {
            var Keys: [Key]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // Encoding strings, booleans and arrays cannot fail.
        return Array(try! encoder.encode(File(Keys: keys))) + [0x0A]
    }

    /// The key a KeyId names: a key id, a key ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID`), an alias
    /// (`alias/NAME`) or an alias ARN (`arn:aws:kms:REGION:ACCOUNT:alias/NAME`). Region and account are not
    /// checked: the store is the cluster's own.
    public func key(named reference: String) -> Key? {
        var name = reference
        if reference.hasPrefix("arn:") {
            let parts = reference.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
            guard parts.count == 6, parts[1].hasPrefix("aws"), parts[2] == "kms" else { return nil }
            name = String(parts[5])
            if name.hasPrefix("key/") { name.removeFirst(4) }
        }
        if name.hasPrefix("alias/") { return keys.first { $0.aliases.contains(name) } }
        return keys.first { $0.keyId == name }
    }

    /// The key a KeyId names, enabled: or the error AWS gives (KMSNotFoundException, KMSDisabledException).
    public func usableKey(named reference: String) throws(KinesisError) -> Key {
        guard let key = key(named: reference) else {
            throw KinesisError(.kmsNotFound, "Key '\(reference)' does not exist in the key store.")
        }
        guard key.enabled else {
            throw KinesisError(.kmsDisabled, "Key '\(reference)' (\(key.keyId)) is disabled.")
        }
        return key
    }

    public func key(id: String) -> Key? { keys.first { $0.keyId == id } }

    // MARK: Editing (`rill keys`)

    /// Adds a key with a fresh random version; returns its id.
    public mutating func create<G: RandomNumberGenerator>(
        alias: String?,
        using generator: inout G
    ) throws(KeyStoreError) -> String {
        let id = Self.randomKeyId(using: &generator)
        var next = keys
        next.append(
            Key(
                keyId: id,
                aliases: alias.map { [$0] } ?? [],
                enabled: true,
                versions: [Self.randomMaterial(using: &generator)]
            )
        )
        self = try MasterKeyStore(keys: next)
        return id
    }

    public mutating func setEnabled(_ enabled: Bool, key reference: String) throws(KeyStoreError) {
        let position = try position(of: reference)
        keys[position].enabled = enabled
    }

    /// Adds a version: new data keys are wrapped under it; data keys wrapped under older versions still open.
    /// Returns the new version.
    public mutating func rotate<G: RandomNumberGenerator>(
        key reference: String,
        using generator: inout G
    ) throws(KeyStoreError) -> Int {
        let position = try position(of: reference)
        keys[position].versions.append(Self.randomMaterial(using: &generator))
        return keys[position].versions.count
    }

    private func position(of reference: String) throws(KeyStoreError) -> Int {
        guard let key = key(named: reference), let position = keys.firstIndex(where: { $0.keyId == key.keyId })
        else { throw .malformed("no key named \(reference)") }
        return position
    }

    static func randomMaterial<G: RandomNumberGenerator>(using generator: inout G) -> [UInt8] {
        (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// A UUID-shaped id, as KMS gives.
    static func randomKeyId<G: RandomNumberGenerator>(using generator: inout G) -> String {
        let hex = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(
            separator: "-"
        )
    }
}

public enum KeyStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed(String)

    public var description: String {
        switch self {
        case .malformed(let reason): reason
        }
    }
}
