import RillKinesis
import RillModel
import Testing

@testable import RillNode

/// The settings service against an in-memory catalog.
@Suite struct SettingsServiceTests {
    func service(_ metadata: FakeMetadata, keys: RecordKeys? = nil) -> SettingsService {
        var random = SystemRandomNumberGenerator()
        return SettingsService(
            metadata: metadata,
            proposer: metadata,
            clock: ManualWallClock(),
            recordKeys: keys ?? RecordKeys(path: "", store: .generated(using: &random))
        )
    }

    func call(
        _ body: String,
        _ run: (inout RequestReader) async throws -> Void
    ) async -> KinesisError? {
        do {
            var reader = try RequestReader(bytes: Array(body.utf8))
            try await run(&reader)
            return nil
        } catch {
            return error as? KinesisError
        }
    }

    @Test("retention rises and falls only through its own call, between 24 and 8760 hours")
    func retentionRules() async throws {
        let metadata = try await FakeMetadata.withStream()
        let settings = service(metadata)
        let ns = FakeMetadata.namespace
        let raised = await call(#"{"StreamName":"s","RetentionPeriodHours":48}"#) {
            _ = try await settings.changeRetention(&$0, ns, increase: true)
        }
        #expect(raised == nil)
        #expect(metadata.catalog.stream("s", in: ns)?.retentionHours == 48)
        let wrongWay = await call(#"{"StreamName":"s","RetentionPeriodHours":24}"#) {
            _ = try await settings.changeRetention(&$0, ns, increase: true)
        }
        #expect(wrongWay?.code == .invalidArgument)
        #expect(wrongWay?.message?.hasSuffix("Use DecreaseRetentionPeriod API.") == true)
        let tooShort = await call(#"{"StreamName":"s","RetentionPeriodHours":23}"#) {
            _ = try await settings.changeRetention(&$0, ns, increase: false)
        }
        #expect(tooShort?.message?.hasPrefix("Minimum allowed retention period is 24 hours.") == true)
        #expect(metadata.catalog.stream("s", in: ns)?.retentionHours == 48)
    }

    @Test("StartStreamEncryption adds a wrapped data key per call; rotation re-wraps the old ones; Stop keeps them")
    func encryption() async throws {
        let metadata = try await FakeMetadata.withStream()
        var random = SplitMix64(seed: 5)
        var store = MasterKeyStore.generated(using: &random)
        _ = try store.create(alias: "alias/off", using: &random)
        try store.setEnabled(false, key: "alias/off")
        let settings = service(metadata, keys: RecordKeys(path: "", store: store))
        let ns = FakeMetadata.namespace
        func start(_ key: String, _ settings: SettingsService) async -> KinesisError? {
            await call(#"{"StreamName":"s","EncryptionType":"KMS","KeyId":"\#(key)"}"#) {
                _ = try await settings.changeEncryption(&$0, ns, start: true)
            }
        }
        #expect(await start("alias/missing", settings)?.code == .kmsNotFound)
        #expect(await start("alias/off", settings)?.code == .kmsDisabled)
        #expect(metadata.catalog.stream("s", in: ns)?.sealingVersion == nil)
        #expect(await start("alias/aws/kinesis", settings) == nil)
        let first = try #require(metadata.catalog.stream("s", in: ns))
        #expect(first.sealingVersion == 1 && first.encryptionKeyId == "alias/aws/kinesis")
        let firstKey = try #require(first.dataKeys?.first).unwrap(for: first.id, with: store)

        // Rotation: version 2 of the master key; the next Start re-wraps data key 1 under it, unchanged.
        let master = try #require(store.key(named: "alias/aws/kinesis")).keyId
        _ = try store.rotate(key: master, using: &random)
        #expect(await start(master, service(metadata, keys: RecordKeys(path: "", store: store))) == nil)
        let second = try #require(metadata.catalog.stream("s", in: ns))
        #expect(second.sealingVersion == 2)
        #expect(second.dataKeys?.map(\.masterVersion) == [2, 2])
        let rewrapped = try #require(second.dataKeys?.first).unwrap(for: first.id, with: store)
        // The same key: what one seals, the other opens.
        let plain = RecordBatch(records: [.init(partitionKey: "k", data: [1, 2, 3])]).encoded()
        let sealed = try RecordBatch.seal(plain, key: firstKey, version: 1, streamID: first.id)
        #expect(try RecordBatch.open(sealed, key: rewrapped, streamID: first.id) == plain)

        let stopped = await call(#"{"StreamName":"s","EncryptionType":"KMS","KeyId":"alias/aws/kinesis"}"#) {
            _ = try await settings.changeEncryption(&$0, ns, start: false)
        }
        #expect(stopped == nil)
        let after = try #require(metadata.catalog.stream("s", in: ns))
        #expect(after.sealingVersion == nil && after.dataKeys?.count == 2)
    }

    @Test("DescribeLimits counts the namespace's open shards")
    func limits() async throws {
        let metadata = try await FakeMetadata.withStream(shards: 3)
        let body = String(decoding: service(metadata).describeLimits(FakeMetadata.namespace).body, as: UTF8.self)
        #expect(body.contains(#""OpenShardCount":3"#))
    }
}
