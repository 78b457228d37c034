import Foundation

/// A `rill agent` configuration: the Amazon Kinesis Agent's `agent.json`, the part of it that writes to Kinesis
/// Data Streams. Unknown keys are refused rather than ignored, so a setting the agent does not honour is never
/// silently dropped.
///
/// ```json
/// {
///   "checkpointFile": "/var/lib/rill-agent/checkpoints",
///   "kinesis.endpoint": "http://127.0.0.1:4567",
///   "flows": [
///     { "filePattern": "/var/log/app.log*", "kinesisStream": "logs", "partitionKeyOption": "RANDOM",
///       "dataProcessingOptions": [{ "optionName": "SINGLELINE" }],
///       "maxBufferAgeMillis": 1000, "maxBufferSizeRecords": 500, "maxBufferSizeBytes": 5242880 }
///   ]
/// }
/// ```
public struct AgentConfiguration: Sendable, Equatable {
    /// Where file offsets are checkpointed (`checkpointFile`; the agent's default path).
    public var checkpointFile = "/var/run/aws-kinesis-agent/checkpoints"
    /// `kinesis.endpoint`; nil leaves the endpoint to the command line.
    public var endpoint: String?
    public var flows: [Flow] = []

    /// One file pattern tailed into one stream.
    public struct Flow: Sendable, Equatable {
        public var filePattern: String
        public var kinesisStream: String
        public var partitionKeyOption: PartitionKeyOption = .random
        public var dataProcessingOptions: [ProcessingOption] = []
        public var maxBufferAgeMillis = 60_000
        public var maxBufferSizeRecords = 500
        public var maxBufferSizeBytes = 5 << 20
        public var initialPosition: InitialPosition = .endOfFile

        public init(filePattern: String, kinesisStream: String) {
            self.filePattern = filePattern
            self.kinesisStream = kinesisStream
        }

        /// Names the flow in the checkpoint file: a flow keeps its offsets as long as its pattern and stream stay.
        public var checkpointKey: String { kinesisStream + " " + filePattern }
    }

    public enum PartitionKeyOption: String, Sendable, Equatable {
        /// A random key per record: records spread over every shard.
        case random = "RANDOM"
        /// The hex MD5 of the record's data: the same record always lands on the same shard.
        case deterministic = "DETERMINISTIC"
    }

    /// Where the agent starts in a file it has never seen, on its first start only (rotated-in files start at 0).
    public enum InitialPosition: String, Sendable, Equatable {
        case startOfFile = "START_OF_FILE"
        case endOfFile = "END_OF_FILE"
    }

    /// Why a configuration cannot be used; the message names the key.
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    public init(checkpointFile: String? = nil, endpoint: String? = nil, flows: [Flow] = []) {
        if let checkpointFile { self.checkpointFile = checkpointFile }
        self.endpoint = endpoint
        self.flows = flows
    }

    /// Parses and checks an `agent.json`.
    public static func parse(_ bytes: [UInt8]) throws(Invalid) -> AgentConfiguration {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: Data(bytes))
        } catch {
            throw Invalid("the configuration is not JSON: \(error.localizedDescription)")
        }
        var reader = try ObjectReader(root, at: "the configuration")
        var configuration = AgentConfiguration()
        if let path = try reader.string("checkpointFile") { configuration.checkpointFile = path }
        configuration.endpoint = try reader.string("kinesis.endpoint")
        for (index, element) in try reader.array("flows").enumerated() {
            configuration.flows.append(try flow(element, at: "flows[\(index)]"))
        }
        try reader.refuseOthers(
            hint:
                "rill agent reads checkpointFile, kinesis.endpoint and flows (Firehose and CloudWatch settings do not apply)"
        )
        guard !configuration.flows.isEmpty else { throw Invalid("flows: at least one flow is needed") }
        let keys = configuration.flows.map(\.checkpointKey)
        guard Set(keys).count == keys.count else {
            throw Invalid("flows: two flows have the same filePattern and stream")
        }
        return configuration
    }

    private static func flow(_ value: Any, at path: String) throws(Invalid) -> Flow {
        var reader = try ObjectReader(value, at: path)
        if reader.has("deliveryStream") {
            throw Invalid("\(path).deliveryStream: Firehose delivery streams are not served; use kinesisStream")
        }
        guard let pattern = try reader.string("filePattern"), pattern.hasPrefix("/") else {
            throw Invalid("\(path).filePattern: an absolute path pattern is required")
        }
        let folder = pattern[..<(pattern.lastIndex(of: "/") ?? pattern.startIndex)]
        guard !folder.contains(where: { "*?[".contains($0) }), !pattern.hasSuffix("/") else {
            throw Invalid("\(path).filePattern: wildcards go in the file name only, not in folders (\(pattern))")
        }
        guard let stream = try reader.string("kinesisStream"), !stream.isEmpty else {
            throw Invalid("\(path).kinesisStream is required")
        }
        var flow = Flow(filePattern: pattern, kinesisStream: stream)
        if let option = try reader.string("partitionKeyOption") {
            guard let parsed = PartitionKeyOption(rawValue: option) else {
                throw Invalid("\(path).partitionKeyOption: RANDOM or DETERMINISTIC, not \(option)")
            }
            flow.partitionKeyOption = parsed
        }
        if let position = try reader.string("initialPosition") {
            guard let parsed = InitialPosition(rawValue: position) else {
                throw Invalid("\(path).initialPosition: START_OF_FILE or END_OF_FILE, not \(position)")
            }
            flow.initialPosition = parsed
        }
        if let age = try reader.int("maxBufferAgeMillis", in: 1...900_000) { flow.maxBufferAgeMillis = age }
        if let records = try reader.int("maxBufferSizeRecords", in: 1...500) { flow.maxBufferSizeRecords = records }
        if let bytes = try reader.int("maxBufferSizeBytes", in: 1...(5 << 20)) { flow.maxBufferSizeBytes = bytes }
        for (index, option) in try reader.array("dataProcessingOptions").enumerated() {
            flow.dataProcessingOptions.append(
                try ProcessingOption.parse(option, at: "\(path).dataProcessingOptions[\(index)]")
            )
        }
        try reader.refuseOthers(
            hint:
                "a flow reads filePattern, kinesisStream, partitionKeyOption, initialPosition, dataProcessingOptions, "
                + "maxBufferAgeMillis, maxBufferSizeRecords and maxBufferSizeBytes"
        )
        return flow
    }
}

/// Reads the members of one JSON object, remembering which were read so the rest can be refused.
struct ObjectReader {
    let object: [String: Any]
    let path: String
    private var read: Set<String> = []

    init(_ value: Any, at path: String) throws(AgentConfiguration.Invalid) {
        guard let object = value as? [String: Any] else {
            throw AgentConfiguration.Invalid("\(path) must be a JSON object")
        }
        self.object = object
        self.path = path
    }

    func has(_ key: String) -> Bool { object[key] != nil }

    mutating func string(_ key: String) throws(AgentConfiguration.Invalid) -> String? {
        read.insert(key)
        guard let value = object[key] else { return nil }
        guard let string = value as? String else { throw AgentConfiguration.Invalid("\(path).\(key) must be a string") }
        return string
    }

    mutating func strings(_ key: String) throws(AgentConfiguration.Invalid) -> [String]? {
        read.insert(key)
        guard let value = object[key] else { return nil }
        guard let strings = value as? [String] else {
            throw AgentConfiguration.Invalid("\(path).\(key) must be an array of strings")
        }
        return strings
    }

    mutating func int(_ key: String, in range: ClosedRange<Int>) throws(AgentConfiguration.Invalid) -> Int? {
        read.insert(key)
        guard let value = object[key] else { return nil }
        guard let number = value as? NSNumber, let int = Int(exactly: number.doubleValue), range.contains(int) else {
            throw AgentConfiguration.Invalid(
                "\(path).\(key) must be a whole number in \(range.lowerBound)…\(range.upperBound)"
            )
        }
        return int
    }

    mutating func array(_ key: String) throws(AgentConfiguration.Invalid) -> [Any] {
        read.insert(key)
        guard let value = object[key] else { return [] }
        guard let array = value as? [Any] else { throw AgentConfiguration.Invalid("\(path).\(key) must be an array") }
        return array
    }

    func refuseOthers(hint: String) throws(AgentConfiguration.Invalid) {
        let unknown = object.keys.filter { !read.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw AgentConfiguration.Invalid("\(path): unsupported key \(unknown.joined(separator: ", ")) (\(hint))")
        }
    }
}
