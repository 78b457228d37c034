import Crypto
import Foundation
import RillKinesis
import RillModel
import Testing

@Suite struct MasterKeyStoreTests {
    static func store() throws -> MasterKeyStore {
        var random = SplitMix64(seed: 7)
        var store = MasterKeyStore.generated(using: &random)
        _ = try store.create(alias: "alias/orders", using: &random)
        return store
    }

    @Test("a key is found by id, key ARN, alias and alias ARN; region and account are not the store's business")
    func resolving() throws {
        let store = try Self.store()
        let orders = try #require(store.key(named: "alias/orders"))
        #expect(store.key(named: orders.keyId) == orders)
        #expect(store.key(named: "arn:aws:kms:eu-west-1:111111111111:key/\(orders.keyId)") == orders)
        #expect(store.key(named: "arn:aws:kms:us-east-1:000000000000:alias/orders") == orders)
        #expect(store.key(named: "alias/aws/kinesis")?.keyId != orders.keyId)
        #expect(store.key(named: "alias/missing") == nil)
        #expect(store.key(named: "arn:aws:s3:::bucket") == nil)
    }

    @Test("unknown keys are KMSNotFoundException, disabled ones KMSDisabledException")
    func usable() throws {
        var store = try Self.store()
        #expect(throws: KinesisError.self) { try store.usableKey(named: "alias/nope") }
        do {
            _ = try store.usableKey(named: "alias/nope")
        } catch {
            #expect(error.code == .kmsNotFound)
        }
        try store.setEnabled(false, key: "alias/orders")
        do {
            _ = try store.usableKey(named: "alias/orders")
            Issue.record("a disabled key was usable")
        } catch {
            #expect(error.code == .kmsDisabled)
        }
        try store.setEnabled(true, key: "alias/orders")
        #expect(try store.usableKey(named: "alias/orders").enabled)
    }

    @Test("the file round-trips; a store without alias/aws/kinesis, or with short material, is refused")
    func parsing() throws {
        var random = SplitMix64(seed: 3)
        var store = try Self.store()
        #expect(try store.rotate(key: "alias/orders", using: &random) == 2)
        #expect(try MasterKeyStore(json: store.json()) == store)
        #expect(throws: KeyStoreError.self) {
            try MasterKeyStore(
                json: Array(
                    #"{"Keys":[{"KeyId":"a","Aliases":["alias/x"],"Versions":["\#(Data(count: 32).base64EncodedString())"]}]}"#
                        .utf8
                )
            )
        }
        #expect(throws: KeyStoreError.self) {
            try MasterKeyStore(
                json: Array(#"{"Keys":[{"KeyId":"a","Aliases":["alias/aws/kinesis"],"Versions":["AAAA"]}]}"#.utf8)
            )
        }
        #expect(throws: KeyStoreError.self) { try MasterKeyStore(json: Array("not json".utf8)) }
        let minimal = try MasterKeyStore(
            json: Array(
                #"{"Keys":[{"KeyId":"a","Aliases":["alias/aws/kinesis"],"Versions":["\#(Data(count: 32).base64EncodedString())"]}]}"#
                    .utf8
            )
        )
        #expect(minimal.keys[0].enabled, "Enabled defaults to true")
    }
}

extension SymmetricKey {
    var bytes: [UInt8] { withUnsafeBytes { Array($0) } }
}

@Suite struct DataKeyTests {
    @Test("a wrapped data key opens with its master key version, also after rotation, and only for its stream")
    func wrapping() throws {
        var random = SplitMix64(seed: 11)
        var store = MasterKeyStore.generated(using: &random)
        let master = try #require(store.key(named: "alias/aws/kinesis"))
        let (wrapped, key) = WrappedDataKey.generate(for: "stream-1", under: master)
        #expect(wrapped.masterVersion == 1)
        #expect(!wrapped.sealed.isEmpty)
        let opened = try wrapped.unwrap(for: "stream-1", with: store)
        #expect(opened.bytes == key.bytes)
        _ = try store.rotate(key: master.keyId, using: &random)
        #expect(try wrapped.unwrap(for: "stream-1", with: store).bytes == key.bytes, "older versions stay in the store")
        // Re-wrapped under the new version without touching records: the same data key.
        let rewrapped = WrappedDataKey.wrap(
            key,
            for: "stream-1",
            under: try #require(store.key(id: master.keyId)),
            version: 2
        )
        #expect(try rewrapped.unwrap(for: "stream-1", with: store).bytes == key.bytes)
        do {
            _ = try wrapped.unwrap(for: "stream-2", with: store)
            Issue.record("a data key opened for another stream")
        } catch {
            #expect(error.code == .kmsAccessDenied)
        }
    }

    @Test("another store, or one without the key, refuses with a message naming the key store")
    func wrongStore() throws {
        var random = SplitMix64(seed: 12)
        let store = MasterKeyStore.generated(using: &random)
        let (wrapped, _) = WrappedDataKey.generate(for: "s", under: store.keys[0])
        var other = MasterKeyStore.generated(using: &random)
        do {
            _ = try wrapped.unwrap(for: "s", with: other)
            Issue.record("opened without the master key")
        } catch {
            #expect(error.code == .kmsAccessDenied)
            #expect(error.message?.contains(store.keys[0].keyId) == true)
            #expect(error.message?.contains("key store") == true)
        }
        // Same id, other material: the store is not the cluster's.
        other = try MasterKeyStore(keys: [
            MasterKeyStore.Key(
                keyId: store.keys[0].keyId,
                aliases: ["alias/aws/kinesis"],
                enabled: true,
                versions: [Array(repeating: 1, count: 32)]
            )
        ])
        do {
            _ = try wrapped.unwrap(for: "s", with: other)
            Issue.record("opened with the wrong material")
        } catch {
            #expect(error.code == .kmsAccessDenied)
        }
    }
}

@Suite struct SealedRecordsTests {
    static var key: SymmetricKey { SymmetricKey(data: Array(repeating: UInt8(9), count: 32)) }
    static let batch = RecordBatch(records: [
        .init(partitionKey: "customer-42", data: Array("card 4111 1111".utf8)),
        .init(partitionKey: "", data: []),
        .init(partitionKey: "k", data: Array(repeating: 0xAB, count: 1000)),
    ])

    static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        let needle = Array(needle.utf8)
        guard haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<$0 + needle.count]) == needle }
    }

    @Test("a sealed batch holds neither data nor partition keys, says its version, and opens to the same batch")
    func roundTrip() throws {
        let plain = Self.batch.encoded()
        #expect(!RecordBatch.isSealed(plain))
        let sealed = try RecordBatch.seal(plain, key: Self.key, version: 3, streamID: "s")
        #expect(RecordBatch.isSealed(sealed))
        #expect(RecordBatch.dataKeyVersion(of: sealed) == 3)
        #expect(RecordBatch.isWellFormed(sealed))
        #expect(RecordBatch.recordCount(of: sealed) == 3)
        #expect(!Self.contains(sealed, "customer-42") && !Self.contains(sealed, "card 4111"))
        #expect(try RecordBatch.producerStamp(of: sealed) == nil)
        #expect(throws: RecordBatch.DecodeError.self) { try RecordBatch(decoding: sealed) }
        let opened = try RecordBatch.open(sealed, key: Self.key, streamID: "s")
        #expect(opened == plain)
        #expect(try RecordBatch(decoding: opened) == Self.batch)
    }

    @Test("an idempotent producer's stamp stays readable in a sealed batch, so every replica keeps its window")
    func producerStamp() throws {
        var batch = Self.batch
        batch.producer = ProducerStamp(producerID: "p-1", sequences: [5, 6, 7])
        let sealed = try RecordBatch.seal(batch.encoded(), key: Self.key, version: 1, streamID: "s")
        #expect(RecordBatch.isWellFormed(sealed))
        #expect(try RecordBatch.producerStamp(of: sealed) == batch.producer)
        #expect(try RecordBatch(decoding: RecordBatch.open(sealed, key: Self.key, streamID: "s")) == batch)
    }

    @Test("damaged ciphertext, a changed header, another stream or another key: refused, never opened")
    func damage() throws {
        let sealed = try RecordBatch.seal(Self.batch.encoded(), key: Self.key, version: 1, streamID: "s")
        for position in [0, 1, 5, 10, 20, sealed.count / 2, sealed.count - 1] {
            var damaged = sealed
            damaged[position] ^= 0x01
            if position == 0 { damaged[position] ^= 0x02 }  // keep the sealed flag, change the count
            #expect(throws: RecordBatch.DecodeError.self, "byte \(position)") {
                try RecordBatch.open(damaged, key: Self.key, streamID: "s")
            }
        }
        #expect(throws: RecordBatch.DecodeError.self) { try RecordBatch.open(sealed, key: Self.key, streamID: "t") }
        let other = SymmetricKey(data: Array(repeating: UInt8(8), count: 32))
        #expect(throws: RecordBatch.DecodeError.self) { try RecordBatch.open(sealed, key: other, streamID: "s") }
        #expect(throws: RecordBatch.DecodeError.self) {
            try RecordBatch.open(Array(sealed.dropLast(3)), key: Self.key, streamID: "s")
        }
        #expect(!RecordBatch.isWellFormed(Array(sealed.dropLast(3))))
    }

    @Test("two seals of one batch differ (fresh nonce)")
    func nonces() throws {
        let plain = Self.batch.encoded()
        #expect(
            try RecordBatch.seal(plain, key: Self.key, version: 1, streamID: "s")
                != RecordBatch.seal(plain, key: Self.key, version: 1, streamID: "s")
        )
    }
}
