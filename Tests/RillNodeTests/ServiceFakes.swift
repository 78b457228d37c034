import NIOConcurrencyHelpers
import RillKinesis
import RillModel

@testable import RillNode

/// A catalog in memory for services under test: what `FakeProposer` commits is applied to it, as the metadata
/// group would, and recorded.
final class FakeMetadata: CatalogView, MetadataProposer {
    private let state = NIOLockedValueBox((catalog: Catalog(), index: LogIndex(0), commands: [CatalogCommand]()))
    let accountID = "000000000000"
    static let namespace = Namespace(account: "000000000000", region: "us-east-1")

    var catalog: Catalog { state.withLockedValue { $0.catalog } }
    /// The commands committed so far, in order.
    var commands: [CatalogCommand] { state.withLockedValue { $0.commands } }

    func commit(_ command: CatalogCommand) async throws {
        try state.withLockedValue { state in
            state.index = LogIndex(state.index.rawValue + 1)
            try state.catalog.apply(command, at: state.index).get()
            state.commands.append(command)
        }
    }

    /// A catalog with three members in three zones and one stream `name` of `shards` shards.
    static func withStream(_ name: String = "s", shards: Int = 1) async throws -> FakeMetadata {
        let metadata = FakeMetadata()
        try await metadata.commit(
            .setMembers([
                ClusterMember(id: 1, zone: "az-a"), ClusterMember(id: 2, zone: "az-b"),
                ClusterMember(id: 3, zone: "az-c"),
            ])
        )
        var create = CreateStreamCommand(
            namespace: namespace,
            name: name,
            id: "\(name)-id",
            shardCount: shards,
            mode: .provisioned,
            createdMillis: 0,
            epoch: 1,
            tags: [:],
            maxRecordSizeKiB: 1024
        )
        create.requiresPlacement = true
        try await metadata.commit(.createStream(create))
        return metadata
    }
}
