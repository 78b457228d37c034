import Foundation
import RillGossip
import RillModel
import Testing

@Suite struct MessageCodecTests {
    /// A random message of every kind, with random members: unicode, empty and long strings, every status,
    /// hints for the metadata group and for shards.
    static func randomMessage(_ random: inout SplitMix64) -> SWIM.Message {
        func string() -> String {
            let pieces = ["", "az-a", "10.0.0.1:7946", "ünïcødé-流", "🦀", String(repeating: "x", count: 300)]
            return pieces.randomElement(using: &random)!
        }
        func member() -> SWIM.Member {
            let status: SWIM.Status =
                switch random.next() % 4 {
                case 0: .alive
                case 1:
                    .suspect(
                        since: SWIM.Tick(random.next()),
                        confirmations: Set((0..<random.next() % 4).map { _ in NodeID(random.next()) })
                    )
                case 2: .dead
                default: .left
                }
            let hints = (0..<random.next() % 4).map { _ -> SWIM.LeadershipHint in
                let group: RaftGroupID =
                    random.next() % 3 == 0
                    ? .meta
                    : .shard(
                        streamID: string(),
                        shard: ShardID(index: UInt32.random(in: 0...UInt32.max, using: &random))
                    )
                return SWIM.LeadershipHint(group: group, term: Term(random.next()), leader: NodeID(random.next()))
            }
            return SWIM.Member(
                id: NodeID(random.next()),
                zone: Zone(string()),
                role: SWIM.Role.allCases.randomElement(using: &random)!,
                apiAddress: string(),
                peerAddress: string(),
                incarnation: random.next(),
                status: status,
                hintsVersion: random.next(),
                hints: hints
            )
        }
        let gossip = (0..<random.next() % 5).map { _ in member() }
        switch random.next() % 6 {
        case 0: return .ping(sequence: random.next(), gossip: gossip)
        case 1:
            return .pingRequest(
                sequence: random.next(),
                target: NodeID(random.next()),
                targetAddress: string(),
                gossip: gossip
            )
        case 2:
            return .ack(
                sequence: random.next(),
                target: NodeID(random.next()),
                incarnation: random.next(),
                gossip: gossip
            )
        case 3: return .nack(sequence: random.next(), target: NodeID(random.next()), gossip: gossip)
        case 4: return .pushPull(members: gossip, isReply: random.next() % 2 == 0)
        default: return .gossip(gossip)
        }
    }

    @Test("Every message survives the byte codec and the Codable shape unchanged")
    func roundTrip() throws {
        var random = SplitMix64(seed: TestEnvironment.replaySeed ?? 800)
        for _ in 0..<500 {
            let message = Self.randomMessage(&random)
            let bytes = message.encoded()
            #expect(bytes.first == SWIM.Message.wireVersion)
            #expect(try SWIM.Message(decoding: bytes) == message)
            let json = try JSONEncoder().encode(message)
            #expect(try JSONDecoder().decode(SWIM.Message.self, from: json) == message)
        }
    }

    @Test("A fixed ping has a fixed encoding")
    func golden() {
        let message = SWIM.Message.ping(sequence: 0x0102, gossip: [Fixtures.member(7)])
        let bytes = message.encoded()
        let expectedPrefix: [UInt8] = [1, 1, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 4]
        #expect(Array(bytes.prefix(expectedPrefix.count)) == expectedPrefix)
        #expect(bytes.count == 86)  // 10 header + 4 count + 72 member
    }

    @Test("Every truncation of a valid message throws")
    func truncations() {
        var random = SplitMix64(seed: 801)
        for _ in 0..<50 {
            let bytes = Self.randomMessage(&random).encoded()
            for length in 0..<bytes.count {
                #expect(throws: SWIM.WireError.self) { try SWIM.Message(decoding: bytes.prefix(length)) }
            }
            #expect(throws: SWIM.WireError.trailingBytes(1)) { try SWIM.Message(decoding: bytes + [0]) }
        }
    }

    @Test("Garbage, flipped bytes and hostile counts throw or decode, never trap")
    func garbage() {
        var random = SplitMix64(seed: TestEnvironment.replaySeed ?? 802)
        var rejected = 0
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int(random.next() % 96)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                if round % 4 == 0, !bytes.isEmpty { bytes[0] = SWIM.Message.wireVersion }
            } else {
                bytes = Self.randomMessage(&random).encoded()
                for _ in 0...(random.next() % 3) where !bytes.isEmpty {
                    bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
                }
            }
            do {
                let message = try SWIM.Message(decoding: bytes)
                // Whatever decodes must encode and decode to itself.
                #expect(try SWIM.Message(decoding: message.encoded()) == message)
            } catch {
                rejected += 1
            }
        }
        #expect(rejected > 10_000)
        #expect(throws: SWIM.WireError.unsupportedVersion(2)) { try SWIM.Message(decoding: [2, 1]) }
        #expect(throws: SWIM.WireError.unknownTag(what: "kind", tag: 9)) { try SWIM.Message(decoding: [1, 9]) }
        // A count of 2^32 − 1 members in a few bytes fails before allocating anything.
        #expect(throws: SWIM.WireError.truncated) { try SWIM.Message(decoding: [1, 6, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0]) }
        let badUTF8: [UInt8] = [1, 2] + Array(repeating: 0, count: 16) + [0, 0, 0, 2, 0xC3, 0x28, 0, 0, 0, 0]
        #expect(throws: SWIM.WireError.invalidUTF8) { try SWIM.Message(decoding: badUTF8) }
    }
}
