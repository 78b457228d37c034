import RillKinesis
import RillModel
import Testing

/// Seeded random and mutated CBOR bodies fed to the decoder and the request transcoder: neither may trap,
/// and the only error a client can get from a bad body is a SerializationException. A failure names the
/// seed and iteration so it replays.
@Suite struct CBORFuzzTests {
    static let iterations = 100_000

    @Test(
        "100,000 random and mutated bodies never trap and only throw SerializationException",
        arguments: [UInt64(0x5EED_CB0F)]
    )
    func fuzz(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var accepted = 0
        for iteration in 0..<Self.iterations {
            var body = Self.body(&random)
            Self.mutate(&body, &random)
            let decoded = (try? CBORDecoder.decode(body)) != nil
            do {
                _ = try WireProtocol.cbor.requestJSON(body)
                accepted += 1
            } catch {
                if error.code != .serialization {
                    Issue.record("seed \(seed) iteration \(iteration): \(error.code) for \(body)")
                    return
                }
            }
            // The node's direct reader and the forwarding transcoder must give the same answer.
            if !body.isEmpty, !Self.readersAgree(body) {
                Issue.record("seed \(seed) iteration \(iteration): CBORToValue and CBORToJSON disagree on \(body)")
                return
            }
            // Whatever the transcoder accepts the decoder accepts too (it is the more permissive one); an empty
            // body is left to the JSON path, which answers it with its own message.
            if !decoded, !body.isEmpty, (try? WireProtocol.cbor.requestJSON(body)) != nil {
                Issue.record("seed \(seed) iteration \(iteration): transcoded what the decoder refused: \(body)")
                return
            }
        }
        // Not everything may be refused, or the mutations test nothing but the first byte.
        #expect(accepted > Self.iterations / 20)
    }

    /// A well-formed request-like body: a map of member names to random items, often with Data and Timestamp.
    static func body(_ random: inout SplitMix64) -> [UInt8] {
        var writer = CBORWriter()
        let names = ["StreamName", "Records", "Data", "PartitionKey", "Timestamp", "Limit", "Tags", "ShardId"]
        writer.beginMap()
        for _ in 0..<Int.random(in: 0...5, using: &random) {
            writer.text(names.randomElement(using: &random) ?? "Data")
            item(&writer, &random, depth: 0)
        }
        writer.endMap()
        guard Bool.random(using: &random) else { return writer.bytes }
        // Re-frame the top-level map as indefinite-length, as Jackson writes it.
        var bytes = writer.bytes
        if let first = bytes.first, first >= 0xA0, first < 0xB8 {
            bytes[0] = 0xBF
            bytes.append(0xFF)
        }
        return bytes
    }

    static func item(_ writer: inout CBORWriter, _ random: inout SplitMix64, depth: Int) {
        switch Int.random(in: 0..<(depth > 3 ? 7 : 9), using: &random) {
        case 0: writer.unsigned(random.next() >> UInt64.random(in: 0...63, using: &random))
        case 1: writer.int(-Int64.random(in: 1...Int64.max, using: &random))
        case 2:
            writer.bytes(
                (0..<Int.random(in: 0...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            )
        case 3: writer.text(String(repeating: "é", count: Int.random(in: 0...5, using: &random)) + "x")
        case 4: writer.double(Double.random(in: -1e12...1e12, using: &random))
        case 5:
            writer.tag(1)
            writer.int(Int64.random(in: 0...2_000_000_000_000, using: &random))
        case 6: writer.bool(Bool.random(using: &random))
        case 7:
            writer.beginArray()
            for _ in 0..<Int.random(in: 0...4, using: &random) { item(&writer, &random, depth: depth + 1) }
            writer.endArray()
        default:
            writer.beginMap()
            for i in 0..<Int.random(in: 0...4, using: &random) {
                writer.text("k\(i)")
                item(&writer, &random, depth: depth + 1)
            }
            writer.endMap()
        }
    }

    /// Flips, overwrites, inserts, deletes or truncates a few bytes; sometimes replaces the body with noise.
    static func mutate(_ body: inout [UInt8], _ random: inout SplitMix64) {
        if Int.random(in: 0..<10, using: &random) == 0 {
            body = (0..<Int.random(in: 0...64, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            return
        }
        for _ in 0..<Int.random(in: 0...3, using: &random) where !body.isEmpty {
            let index = Int.random(in: 0..<body.count, using: &random)
            switch Int.random(in: 0..<5, using: &random) {
            case 0: body[index] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)
            case 1:
                body[index] =
                    [0xFF, 0x1B, 0x5B, 0x7F, 0x9F, 0xBF, 0xDF, 0xF8, 0xFB, 0x00].randomElement(using: &random) ?? 0
            case 2: body.insert(UInt8.random(in: 0...255, using: &random), at: index)
            case 3: body.remove(at: index)
            default: body.removeLast(body.count - index)
            }
        }
    }

    /// Both accept or both refuse; when both accept, the trees are equal once blobs are written as base64.
    static func readersAgree(_ body: [UInt8]) -> Bool {
        let direct = try? CBORToValue.object(body)
        let viaJSON = (try? CBORToJSON.transcode(body)).flatMap { try? JSONParser.parse($0) }
        guard let direct, let viaJSON else { return direct == nil && viaJSON == nil }
        return normalized(direct) == viaJSON
    }

    static func normalized(_ value: JSONValue) -> JSONValue {
        switch value {
        case .blob(let bytes): .string(Base64.encode(bytes))
        case .array(let items): .array(items.map(normalized))
        case .object(let object): .object(JSONObject(object.members.map { ($0.key, normalized($0.value)) }))
        default: value
        }
    }
}
