import Foundation

/// What `rill agent` keeps in its checkpoint file: per flow (`Flow.checkpointKey`), the file generations it
/// follows with their acknowledged offsets and producer ids. Written whole, fsynced and renamed into place
/// (`AtomicFile`) after each acknowledgement and before the first record of a new generation is sent, so a
/// restart resumes from offsets the stream holds, resending under the same producer ids (deduplicated).
public struct AgentCheckpoint: Codable, Sendable, Equatable {
    public var version = 1
    public var flows: [String: [FollowedFile]] = [:]

    public init() {}

    public static func decode(_ bytes: [UInt8]) throws -> AgentCheckpoint {
        let checkpoint = try JSONDecoder().decode(AgentCheckpoint.self, from: Data(bytes))
        guard checkpoint.version == 1 else {
            throw AgentConfiguration.Invalid("checkpoint version \(checkpoint.version) is not 1")
        }
        return checkpoint
    }

    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return Array(try encoder.encode(self))
    }
}
