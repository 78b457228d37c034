import RillKinesis
import RillModel
import RillTransport

/// One `POST /admin/faults` body: which chaos faults to inject into this node, or to heal.
///
///     {"heal": true}                                   end every fault below
///     {"isolate": [2, 3]}                              cut all traffic to and from nodes 2 and 3
///     {"drop": {"peer": 2, "probability": 0.7}}        drop Raft messages to node 2 (this direction only);
///                                                      an array of such objects sets several
///     {"delay": {"peer": 2, "millis": 100, "jitterMillis": 50}}
///                                                      hold every frame to node 2 for 100–150 ms, in order
///                                                      (0 and 0 end it); an array sets several
///     {"clock": {"jumpMillis": -300000}}               move the wall clock by the offset
///     {"clock": {"rate": 2.0}}                         run the wall clock at twice real speed
///     {"loseUnsyncedWrites": true}                     keep unsynced writes in memory: kill -9 = power loss
///
/// Keys combine; `heal` applies first. An unknown key is refused, so a typo never passes for a fault.
public struct FaultCommand: Sendable, Equatable {
    public struct Drop: Sendable, Equatable {
        public var peer: NodeID
        public var probability: Double
    }

    public struct Delay: Sendable, Equatable {
        public var peer: NodeID
        public var millis: Int
        public var jitterMillis: Int
    }

    public var heal = false
    public var isolate: [NodeID] = []
    public var drops: [Drop] = []
    public var delays: [Delay] = []
    public var clockJumpMillis: Int64?
    public var clockRate: Double?
    public var loseUnsyncedWrites: Bool?

    /// Whether the command needs the peer transport (a one-node cluster has none).
    package var needsPeers: Bool { !isolate.isEmpty || !drops.isEmpty || !delays.isEmpty }

    /// Every peer the command names.
    package var peers: [NodeID] { isolate + drops.map(\.peer) + delays.map(\.peer) }

    public init() {}

    /// The command in `body`, or why it is not one.
    public static func parse(_ body: [UInt8]) -> Result<FaultCommand, FaultCommandError> {
        guard case .object(let object)? = try? JSONParser.parse(body) else {
            return .failure(FaultCommandError("the body must be a JSON object"))
        }
        var command = FaultCommand()
        for (key, value) in object.members {
            switch (key, value) {
            case ("heal", .bool(let heal)):
                command.heal = heal
            case ("isolate", .array(let peers)):
                for peer in peers {
                    guard let id = nodeID(peer) else { return .failure(FaultCommandError("isolate takes node ids")) }
                    command.isolate.append(id)
                }
            case ("drop", .object(let drop)):
                guard let parsed = Self.drop(drop) else { return .failure(.badDrop) }
                command.drops.append(parsed)
            case ("drop", .array(let drops)):
                for element in drops {
                    guard case .object(let drop) = element, let parsed = Self.drop(drop) else {
                        return .failure(.badDrop)
                    }
                    command.drops.append(parsed)
                }
            case ("delay", .object(let delay)):
                guard let parsed = Self.delay(delay) else { return .failure(.badDelay) }
                command.delays.append(parsed)
            case ("delay", .array(let delays)):
                for element in delays {
                    guard case .object(let delay) = element, let parsed = Self.delay(delay) else {
                        return .failure(.badDelay)
                    }
                    command.delays.append(parsed)
                }
            case ("clock", .object(let clock)):
                for (clockKey, clockValue) in clock.members {
                    switch (clockKey, clockValue) {
                    case ("jumpMillis", .number(let text)):
                        guard let millis = Int64(text) else { return .failure(.badClock) }
                        command.clockJumpMillis = millis
                    case ("rate", .number(let text)):
                        guard let rate = Double(text), rate > 0, rate <= 1000 else { return .failure(.badClock) }
                        command.clockRate = rate
                    default:
                        return .failure(.badClock)
                    }
                }
            case ("loseUnsyncedWrites", .bool(let lose)):
                command.loseUnsyncedWrites = lose
            default:
                return .failure(FaultCommandError("unknown or malformed key \"\(key)\""))
            }
        }
        return .success(command)
    }

    private static func drop(_ object: JSONObject) -> Drop? {
        guard let peer = object["peer"].flatMap(nodeID), case .number(let text)? = object["probability"],
            let probability = Double(text), (0...1).contains(probability)
        else { return nil }
        return Drop(peer: peer, probability: probability)
    }

    /// At most a minute each: longer would only look like a partition, and a typo should not look like one.
    private static func delay(_ object: JSONObject) -> Delay? {
        guard object.members.allSatisfy({ ["peer", "millis", "jitterMillis"].contains($0.0) }),
            let peer = object["peer"].flatMap(nodeID), case .number(let text)? = object["millis"],
            let millis = Int(text), (0...60_000).contains(millis)
        else { return nil }
        var jitter = 0
        if let value = object["jitterMillis"] {
            guard case .number(let text) = value, let parsed = Int(text), (0...60_000).contains(parsed) else {
                return nil
            }
            jitter = parsed
        }
        return Delay(peer: peer, millis: millis, jitterMillis: jitter)
    }

    private static func nodeID(_ value: JSONValue) -> NodeID? {
        guard case .number(let text) = value, let id = UInt64(text), id > 0 else { return nil }
        return NodeID(id)
    }
}

/// Why a fault command was refused (HTTP 400).
public struct FaultCommandError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }

    static let badDrop = FaultCommandError("drop takes {\"peer\": id, \"probability\": 0...1}")
    static let badDelay = FaultCommandError(
        "delay takes {\"peer\": id, \"millis\": 0...60000, \"jitterMillis\": 0...60000 (optional)}"
    )
    static let badClock = FaultCommandError("clock takes {\"jumpMillis\": integer} and/or {\"rate\": number > 0}")
}

extension FaultCommand.Delay {
    /// The transport's form; zero and zero ends the delay.
    public var linkDelay: LinkDelay? {
        millis == 0 && jitterMillis == 0
            ? nil : LinkDelay(fixed: .milliseconds(millis), jitter: .milliseconds(jitterMillis))
    }
}
