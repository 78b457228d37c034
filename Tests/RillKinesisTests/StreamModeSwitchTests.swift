import Foundation
import RillKinesis
import RillModel
import Testing

/// UpdateStreamMode's rules, applied in the catalog so every replica agrees: twice in 24 hours, the on-demand
/// stream limit, ACTIVE only, the same mode a no-op.
@Suite struct StreamModeSwitchTests {
    static let namespace = Namespace(account: "000000000000", region: "us-east-1")
    static let hour: Int64 = 3_600_000

    static func catalog(streams names: [String], mode: StreamMode = .provisioned) -> Catalog {
        var catalog = Catalog()
        var index: UInt64 = 1
        _ = catalog.apply(.setMembers([ClusterMember(id: 1, zone: "az-a")]), at: LogIndex(index))
        for name in names {
            index += 1
            let create = CreateStreamCommand(
                namespace: namespace,
                name: name,
                id: "id-\(name)",
                shardCount: 2,
                mode: mode,
                createdMillis: 0,
                epoch: 1,
                tags: [:],
                maxRecordSizeKiB: 1024
            )
            _ = catalog.apply(.createStream(create), at: LogIndex(index))
        }
        return catalog
    }

    static func switchTo(_ mode: StreamMode, _ name: String = "s", at millis: Int64) -> CatalogCommand {
        .setStreamMode(namespace: namespace, name: name, mode: mode, atMillis: millis)
    }

    @Test("two switches in 24 hours; the third is LimitExceeded until the first is a day old; shards stay")
    func twiceADay() throws {
        var catalog = Self.catalog(streams: ["s"])
        let shards = catalog.stream("s", in: Self.namespace)?.shards
        #expect(throws: Never.self) { try catalog.apply(Self.switchTo(.onDemand, at: 0), at: LogIndex(10)).get() }
        #expect(throws: Never.self) {
            try catalog.apply(Self.switchTo(.provisioned, at: Self.hour), at: LogIndex(11)).get()
        }
        let third = catalog.apply(Self.switchTo(.onDemand, at: 2 * Self.hour), at: LogIndex(12))
        guard case .failure(let error) = third else {
            Issue.record("a third switch within a day was allowed")
            return
        }
        #expect(error.code == .limitExceeded)
        #expect(catalog.stream("s", in: Self.namespace)?.mode == .provisioned)
        // The same mode is no switch and is not counted.
        #expect(throws: Never.self) {
            try catalog.apply(Self.switchTo(.provisioned, at: 3 * Self.hour), at: LogIndex(13)).get()
        }
        #expect(throws: Never.self) {
            try catalog.apply(Self.switchTo(.onDemand, at: 24 * Self.hour), at: LogIndex(14)).get()
        }
        #expect(catalog.stream("s", in: Self.namespace)?.mode == .onDemand)
        #expect(catalog.stream("s", in: Self.namespace)?.shards == shards)
    }

    @Test("switching to on-demand counts against the account's on-demand stream limit")
    func onDemandLimit() throws {
        let names = (0...Catalog.onDemandStreamLimit).map { "s\($0)" }
        var catalog = Self.catalog(streams: names, mode: .onDemand)
        _ = catalog.apply(Self.switchTo(.provisioned, "s0", at: 0), at: LogIndex(100))
        _ = catalog.apply(Self.switchTo(.provisioned, "s1", at: 0), at: LogIndex(101))
        // 49 on-demand streams now: one may switch back, the next may not.
        #expect(throws: Never.self) {
            try catalog.apply(Self.switchTo(.onDemand, "s0", at: 1), at: LogIndex(102)).get()
        }
        let refused = catalog.apply(Self.switchTo(.onDemand, "s1", at: 1), at: LogIndex(103))
        guard case .failure(let error) = refused else {
            Issue.record("the on-demand stream limit was not kept")
            return
        }
        #expect(error.code == .limitExceeded)
    }

    @Test("an entry of an older build (no time) applies as it did, with no limit; the command codes with its time")
    func olderEntries() throws {
        var catalog = Self.catalog(streams: ["s"])
        for n in 0..<4 {
            let mode: StreamMode = n % 2 == 0 ? .onDemand : .provisioned
            #expect(throws: Never.self) {
                try catalog.apply(
                    .setStreamMode(namespace: Self.namespace, name: "s", mode: mode),
                    at: LogIndex(UInt64(20 + n))
                ).get()
            }
        }
        let old =
            #"{"setStreamMode":{"namespace":{"account":"000000000000","region":"us-east-1"},"name":"s","mode":"ON_DEMAND"}}"#
        #expect(
            try JSONDecoder().decode(CatalogCommand.self, from: Data(old.utf8))
                == .setStreamMode(namespace: Self.namespace, name: "s", mode: .onDemand)
        )
        let command = Self.switchTo(.onDemand, at: 42)
        #expect(try JSONDecoder().decode(CatalogCommand.self, from: try JSONEncoder().encode(command)) == command)
    }
}
