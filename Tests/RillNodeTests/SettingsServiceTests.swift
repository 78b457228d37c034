import RillKinesis
import RillModel
import Testing

@testable import RillNode

/// The settings service against an in-memory catalog.
@Suite struct SettingsServiceTests {
    func service(_ metadata: FakeMetadata) -> SettingsService {
        SettingsService(metadata: metadata, proposer: metadata, clock: ManualWallClock())
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

    @Test("DescribeLimits counts the namespace's open shards")
    func limits() async throws {
        let metadata = try await FakeMetadata.withStream(shards: 3)
        let body = String(decoding: service(metadata).describeLimits(FakeMetadata.namespace).body, as: UTF8.self)
        #expect(body.contains(#""OpenShardCount":3"#))
    }
}
