import Foundation
import RillModel
import RillRaft
import Testing

/// Golden interaction scripts (etcd-io/raft `interaction_test.go`): each file in `testdata/` is a list of
/// directives, each followed by `----` and the output it must produce, up to a blank line.
/// `RILL_REWRITE_GOLDEN=1 swift test --filter InteractionTests` rewrites the expected output in the source tree;
/// review the diff before committing it ("only commit the changes if you understand what caused them").
@Suite struct InteractionTests {
    static let files: [String] = {
        guard let folder = Bundle.module.url(forResource: "testdata", withExtension: nil),
            let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path)
        else { return [] }
        return names.filter { $0.hasSuffix(".txt") }.sorted()
    }()

    @Test("the testdata folder holds scripts")
    func scriptsExist() {
        #expect(Self.files.count >= 3)
    }

    @Test("golden interaction script", arguments: files)
    func script(name: String) throws {
        guard let folder = Bundle.module.url(forResource: "testdata", withExtension: nil) else {
            Issue.record("testdata resource missing")
            return
        }
        let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
        let blocks = InteractionScript.parse(text)
        var interpreter = InteractionInterpreter()
        var rewritten = ""
        for block in blocks {
            let output = interpreter.run(block.directive)
            rewritten += block.leading + block.directive + "\n----\n" + output.map { $0 + "\n" }.joined() + "\n"
            #expect(
                output == block.expected,
                "\(name): \(block.directive)\n--- expected\n\(block.expected.joined(separator: "\n"))\n--- got\n\(output.joined(separator: "\n"))"
            )
        }
        if ProcessInfo.processInfo.environment["RILL_REWRITE_GOLDEN"] == "1" {
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("testdata").appendingPathComponent(name)
            try rewritten.write(to: source, atomically: true, encoding: .utf8)
        }
    }
}

/// The parsed form of a script.
enum InteractionScript {
    struct Block {
        /// Comments and blank lines before the directive, kept for rewriting.
        var leading: String
        var directive: String
        var expected: [String]
    }

    static func parse(_ text: String) -> [Block] {
        var blocks: [Block] = []
        var lines = text.components(separatedBy: "\n")[...]
        var leading = ""
        while let line = lines.popFirst() {
            if line.isEmpty || line.hasPrefix("#") {
                leading += line + "\n"
                continue
            }
            var expected: [String] = []
            if lines.first == "----" {
                lines.removeFirst()
                while let output = lines.first, !output.isEmpty {
                    expected.append(output)
                    lines.removeFirst()
                }
                if lines.first == "" { lines.removeFirst() }
            }
            blocks.append(Block(leading: leading, directive: line, expected: expected))
            leading = ""
        }
        return blocks
    }
}

/// Runs directives against a `TestCluster` and renders what happened.
struct InteractionInterpreter {
    enum Level: String { case none, info, debug }

    var cluster: TestCluster?
    var level = Level.debug
    var lastState: [NodeID: String] = [:]

    mutating func run(_ line: String) -> [String] {
        let words = line.split(separator: " ").map(String.init)
        guard let command = words.first else { return [] }
        let args = Array(words.dropFirst())
        func id(_ position: Int) -> UInt64? { args.indices.contains(position) ? UInt64(args[position]) : nil }
        var output: [String] = []
        switch command {
        case "log-level":
            level = Level(rawValue: args.first ?? "") ?? .debug
            return ["ok"]
        case "add-nodes":
            let count = Int(args.first ?? "") ?? 3
            var options = Raft.Options(electionTicks: 10, heartbeatTicks: 1)
            var learners: [UInt64] = []
            for arg in args.dropFirst() {
                let pair = arg.split(separator: "=").map(String.init)
                guard pair.count == 2 else { continue }
                switch pair[0] {
                case "prevote": options.preVote = pair[1] == "true"
                case "checkquorum": options.checkQuorum = pair[1] == "true"
                case "learners": learners = pair[1].split(separator: ",").compactMap { UInt64($0) }
                default: break
                }
            }
            cluster = TestCluster(voters: count, learners: learners, options: options)
            output.append("ok")
        case "campaign":
            guard let node = id(0) else { return ["usage: campaign ID"] }
            cluster?[node].campaign()
            cluster?.process(NodeID(node))
        case "propose":
            guard let node = id(0), args.count >= 2 else { return ["usage: propose ID DATA"] }
            do {
                let index = try cluster?[node].propose(kind: .records, payload: Array(args[1].utf8))
                output.append("index=\(index.map(\.description) ?? "-")")
            } catch {
                output.append("error: \(error)")
            }
            cluster?.process(NodeID(node))
        case "deliver-msgs":
            let target = id(0).map { NodeID($0) }
            let delivered = cluster?.deliver { target == nil || $0.to == target } ?? []
            if level == .debug { output += delivered.map(\.description) }
        case "drop-msgs":
            let count = cluster?.inFlight.count ?? 0
            cluster?.inFlight.removeAll()
            output.append("dropped \(count)")
        case "tick-election":
            guard let node = id(0) else { return ["usage: tick-election ID"] }
            cluster?.tickElection(node)
        case "tick-heartbeat":
            guard let node = id(0) else { return ["usage: tick-heartbeat ID"] }
            cluster?.tickHeartbeat(node)
        case "tick":
            // `tick N`: every node ticks N times, as wall time passes for all.
            let count = Int(args.first ?? "") ?? 1
            for _ in 0..<count {
                for node in cluster?.ids ?? [] {
                    cluster?.nodes[node]?.tick()
                    cluster?.process(node)
                }
            }
        case "partition":
            // `partition 1 2`: the listed nodes on one side, everyone else on the other.
            let side = Set(args.compactMap { UInt64($0) }.map { NodeID($0) })
            let rest = Set(cluster?.ids ?? []).subtracting(side)
            cluster?.partition = [side, rest]
            output.append("ok")
        case "heal":
            cluster?.partition = nil
            output.append("ok")
        case "stabilize":
            let delivered = cluster?.stabilize() ?? []
            if level == .debug { output += delivered.map(\.description) }
        case "transfer-leadership":
            guard let from = id(0), let to = id(1) else { return ["usage: transfer-leadership FROM TO"] }
            do { try cluster?[from].transferLeadership(to: NodeID(to)) } catch { output.append("error: \(error)") }
            cluster?.process(NodeID(from))
        case "add-learner", "add-voter", "remove-node":
            guard let leader = id(0), let member = id(1) else { return ["usage: \(command) LEADER ID"] }
            let change: Raft.ConfigurationChange =
                command == "add-learner"
                ? .addLearner(NodeID(member))
                : command == "add-voter" ? .addVoter(NodeID(member)) : .remove(NodeID(member))
            if cluster?.nodes[NodeID(member)] == nil {
                cluster?.add(NodeID(member), configuration: Raft.Configuration(voters: []))
            }
            do {
                let index = try cluster?[leader].proposeConfigurationChange(change)
                output.append("index=\(index.map(\.description) ?? "-")")
            } catch {
                output.append("error: \(error)")
            }
            cluster?.process(NodeID(leader))
        case "compact":
            guard let node = id(0), let index = id(1) else { return ["usage: compact ID INDEX"] }
            do {
                try cluster?[node].compact(through: LogIndex(index), state: [])
                if let snapshot = cluster?[node].snapshot { cluster?.storage[NodeID(node)]?.compact(to: snapshot) }
            } catch {
                output.append("error: \(error)")
            }
        case "raft-log":
            guard let node = id(0), let log = cluster?[node].log else { return ["usage: raft-log ID"] }
            let entries = log.entries(from: log.firstIndex) ?? []
            if entries.isEmpty { output.append("empty (snapshot \(log.snapshotTerm)/\(log.snapshotIndex))") }
            for entry in entries {
                output.append(
                    "\(entry.term)/\(entry.index) \(entry.kind) \(String(decoding: entry.payload, as: UTF8.self))"
                )
            }
            return output
        case "status":
            return (cluster?.ids ?? []).map { describe($0) }
        default:
            return ["unknown directive \(command)"]
        }
        if level != .none {
            for node in cluster?.ids ?? [] {
                let state = describe(node)
                if lastState[node] != state { output.append(state) }
            }
        }
        for node in cluster?.ids ?? [] { lastState[node] = describe(node) }
        return output
    }

    func describe(_ id: NodeID) -> String {
        guard let node = cluster?.nodes[id] else { return "\(id): absent" }
        return "\(id): \(node.role) term=\(node.term) leader=\(node.leader.map(\.description) ?? "-") "
            + "commit=\(node.commitIndex) last=\(node.log.lastIndex) applied=\(node.appliedIndex) \(node.configuration)"
    }
}
