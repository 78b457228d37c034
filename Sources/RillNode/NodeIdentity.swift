import Foundation
import Logging
import RillCluster
import RillModel
import RillStorage

/// `node.json`: who this data directory belongs to and which cluster it is part of. A directory written by
/// another node id is refused, so a misconfigured restart cannot serve someone else's replicas.
struct NodeIdentity: Codable {
    static let formatVersion = 1
    var formatVersion: Int
    var nodeID: UInt64
    var zone: String
    /// Random per data directory: a wiped directory comes back with a new one, so peers can tell the new
    /// incarnation from the replica that forgot its votes and log.
    var generation: UInt64
    /// Random per data directory; the founders' nonces make the cluster UUID.
    var nonce: String?
    /// The cluster this directory belongs to, once formed or joined.
    var cluster: ClusterRecord?
    /// Set when this directory started empty under an id the cluster already knew (a wiped disk): every group
    /// abstains from voting until it has caught up. Cleared once all have.
    var rejoining: Bool?

    /// The cluster as founded: its UUID and its voting nodes.
    struct ClusterRecord: Codable, Equatable {
        var id: String
        var voters: [MemberAddress]
    }

    struct Mismatch: Error, CustomStringConvertible {
        var description: String
    }

    static func path(in directory: String) -> String { directory + "/node.json" }

    /// Reads node.json, or writes a fresh one for an empty directory.
    static func loadOrCreate(directory: String, configuration: NodeConfiguration, logger: Logger) throws -> NodeIdentity
    {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if let bytes = try AtomicFile.read(path: path(in: directory)) {
            var identity = try JSONDecoder().decode(NodeIdentity.self, from: Data(bytes))
            guard identity.nodeID == configuration.id.rawValue else {
                throw Mismatch(
                    description:
                        "data directory \(directory) belongs to node \(identity.nodeID), not \(configuration.id)"
                )
            }
            if identity.nonce == nil {
                identity.nonce = UUID().uuidString.lowercased()
                try identity.save(in: directory)
            }
            return identity
        }
        let identity = NodeIdentity(
            formatVersion: formatVersion,
            nodeID: configuration.id.rawValue,
            zone: configuration.zone.rawValue,
            generation: UInt64.random(in: 1...UInt64.max),
            nonce: UUID().uuidString.lowercased(),
            cluster: nil
        )
        try identity.save(in: directory)
        logger.info("initialized data directory", metadata: ["path": "\(directory)"])
        return identity
    }

    func save(in directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(path: Self.path(in: directory), bytes: Array(try encoder.encode(self)))
    }
}
