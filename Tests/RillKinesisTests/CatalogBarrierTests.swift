import Foundation
import RillKinesis
import RillModel
import Testing

/// The barrier a restarted node proposes to learn that its catalog is current (`CatalogCommand.barrier`).
@Suite struct CatalogBarrierTests {
    @Test("a barrier records the node's nonce and changes nothing else; a later one replaces it")
    func barrierRecordsItsNonce() throws {
        var catalog = Catalog()
        _ = catalog.apply(.setMembers([ClusterMember(id: 1, zone: "az-a")]), at: LogIndex(1))
        let before = catalog
        #expect(try catalog.apply(.barrier(node: 2, nonce: 77), at: LogIndex(2)).get() == ())
        #expect(catalog.barriers == [2: 77])
        #expect(catalog.members == before.members)
        #expect(catalog.allStreams.count == before.allStreams.count)
        #expect(catalog.appliedIndex == LogIndex(2))
        _ = catalog.apply(.barrier(node: 2, nonce: 78), at: LogIndex(3))
        _ = catalog.apply(.barrier(node: 3, nonce: 5), at: LogIndex(4))
        #expect(catalog.barriers == [2: 78, 3: 5])
    }

    @Test("a barrier survives the JSON the metadata log stores it in")
    func barrierCodes() throws {
        let command = CatalogCommand.barrier(node: 9, nonce: UInt64.max)
        let decoded = try JSONDecoder().decode(CatalogCommand.self, from: try JSONEncoder().encode(command))
        #expect(decoded == command)
    }
}
