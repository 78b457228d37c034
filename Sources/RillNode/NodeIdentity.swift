import Foundation
import Logging
import RillModel
import RillStorage

/// `node.json`: who this data directory belongs to. A directory written by another node id is refused,
/// so a misconfigured restart cannot serve someone else's replicas.
struct NodeIdentity: Codable {
    static let formatVersion = 1
    var formatVersion: Int
    var nodeID: UInt64
    var zone: String
    /// Bumped when a replica must rejoin as a learner (wiped or damaged data).
    var generation: UInt64

    struct Mismatch: Error, CustomStringConvertible {
        var description: String
    }

    static func loadOrCreate(directory: String, configuration: NodeConfiguration, logger: Logger) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/node.json"
        if let bytes = try AtomicFile.read(path: path) {
            let identity = try JSONDecoder().decode(NodeIdentity.self, from: Data(bytes))
            guard identity.nodeID == configuration.id.rawValue else {
                throw Mismatch(
                    description: "data directory \(directory) belongs to node \(identity.nodeID), not \(configuration.id)")
            }
            return
        }
        let identity = NodeIdentity(
            formatVersion: formatVersion, nodeID: configuration.id.rawValue, zone: configuration.zone.rawValue,
            generation: 1)
        try AtomicFile.write(path: path, bytes: Array(try JSONEncoder().encode(identity)))
        logger.info("initialized data directory", metadata: ["path": "\(directory)"])
    }
}
