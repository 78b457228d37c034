import RillAPI
import RillKinesis
import RillModel
import Testing

@testable import RillCluster

@Suite struct PeerCallTests {
    @Test("only a small append or a small forwarded PutRecord is served on the event loop")
    func smallWritesAreRecognizedFromTheirBytes() {
        let small = [UInt8](repeating: 7, count: 1024)
        let big = [UInt8](repeating: 7, count: 32 << 10)
        #expect(PeerCall.isSmallWrite(PeerCall.append(streamID: "s", shard: 0, batch: small).encoded()))
        #expect(!PeerCall.isSmallWrite(PeerCall.append(streamID: "s", shard: 0, batch: big).encoded()))
        let put = PeerCall.forward(operation: "PutRecord", signedRegion: nil, requestID: "r", body: small)
        #expect(PeerCall.isSmallWrite(put.encoded()))
        #expect(
            !PeerCall.isSmallWrite(
                PeerCall.forward(operation: "PutRecord", signedRegion: nil, requestID: "r", body: big).encoded()
            )
        )
        for operation in ["PutRecords", "GetRecords", "PutRecor"] {
            let call = PeerCall.forward(operation: operation, signedRegion: nil, requestID: "r", body: small)
            #expect(!PeerCall.isSmallWrite(call.encoded()), "\(operation)")
        }
        #expect(!PeerCall.isSmallWrite(PeerCall.seal(streamID: "s", shard: 0).encoded()))
        #expect(!PeerCall.isSmallWrite(PeerCall.routes(streamName: "s", streamARN: nil, signedRegion: nil).encoded()))
        #expect(!PeerCall.isSmallWrite([]))
    }

    @Test("a forward that lets the serving node answer in CBOR, and that answer, survive the wire")
    func cborForwards() throws {
        let body = Array(#"{"ShardIterator":"x"}"#.utf8)
        let plain = PeerCall.forward(operation: "GetRecords", signedRegion: "eu-west-1", requestID: "r", body: body)
        let cbor = PeerCall.forward(
            operation: "GetRecords",
            signedRegion: nil,
            requestID: "r",
            body: body,
            caller: .anonymous,
            cborReply: true
        )
        #expect(try PeerCall(decoding: plain.encoded()) == plain)
        #expect(try PeerCall(decoding: cbor.encoded()) == cbor)
        // A plain forward keeps the bytes older nodes read (kind 2); the CBOR one is a kind of its own.
        #expect(plain.encoded()[1] == 2 && cbor.encoded()[1] == 12)
        let put = PeerCall.forward(
            operation: "PutRecord",
            signedRegion: nil,
            requestID: "r",
            body: body,
            caller: .anonymous,
            cborReply: true
        )
        #expect(PeerCall.isSmallWrite(put.encoded()))
        let answer = PeerAnswer.cborResponse([0xbf, 0xff])
        #expect(try PeerAnswer(decoding: answer.encoded()) == answer)
        #expect(try PeerAnswer(decoding: PeerAnswer.response([1]).encoded()) == .response([1]))
    }

    @Test("a forward carrying the client's CBOR body is a kind of its own, which implies a CBOR reply")
    func cborBodies() throws {
        let body: [UInt8] = [0xBF, 0x67] + Array("Records".utf8) + [0x9F, 0xFF, 0xFF]
        let call = PeerCall.forward(
            operation: "PutRecords",
            signedRegion: "us-east-1",
            requestID: "r",
            body: body,
            caller: Principal(accessKeyID: "AKID", secureTransport: true),
            cborReply: true,
            cborBody: true
        )
        let bytes = call.encoded()
        // Kind 13: a node older than it refuses it as unreadable (nothing done), and is asked again in JSON.
        #expect(bytes[1] == 13)
        #expect(try PeerCall(decoding: bytes) == call)
        #expect(!PeerCall.isSmallWrite(bytes))
        var unknown = bytes
        unknown[1] = 200
        #expect(throws: WireError.self) { try PeerCall(decoding: unknown) }
    }

    @Test("a metrics call and its answer survive the wire; unknown selections and huge counts are refused")
    func metricsRoundTrip() throws {
        let metric = MetricID(name: "IncomingRecords", dimensions: [.init("StreamName", "lab")])
        for selection in [
            MetricSelection.series([metric], fromMillis: 60_000, toMillis: 180_000),
            .list(MetricFilter(namespace: "AWS/Kinesis", name: nil, dimensions: [.init(name: "ShardId", value: nil)])),
        ] {
            for region in [nil, "eu-west-1"] as [String?] {
                let call = PeerCall.metrics(region: region, selection: selection)
                #expect(try PeerCall(decoding: call.encoded()) == call)
            }
        }
        var store = MetricStore()
        store.record(metric, 3, unit: "Count", atMillis: 60_500)
        store.record(metric, 5, unit: "Count", atMillis: 61_000)
        store.record(metric, 1.25, unit: "Count", atMillis: 125_000)
        // Latencies carry their sketch across, so percentiles merge over nodes.
        let latency = MetricID(name: "PutRecord.Latency", dimensions: [.init("StreamName", "lab")])
        for value in [0.0, 0.4, 1.5, 1.5, 230] { store.record(latency, value, unit: "Milliseconds", atMillis: 60_700) }
        #expect(store.series[latency]?[60_000]?.sketch?.count == 5)
        let answer = PeerAnswer.metrics(store)
        guard case .metrics(let decoded) = try PeerAnswer(decoding: answer.encoded()) else {
            Issue.record("not a metrics answer")
            return
        }
        #expect(decoded.series == store.series)
        #expect(decoded.units == store.units)
        // A count past its bound is refused, never allocated.
        var bytes = PeerAnswer.metrics(MetricStore()).encoded()
        bytes.replaceSubrange(2..<6, with: [0xff, 0xff, 0xff, 0xff])
        #expect(throws: WireError.self) { _ = try PeerAnswer(decoding: bytes) }
    }

    @Test("a rest check and its answer survive the wire; truncations, bad tags and huge counts are refused")
    func restCheckRoundTrip() throws {
        let call = PeerCall.restCheck([
            RestingGroup(group: .meta, term: Term(3), leader: NodeID(2), commit: LogIndex(40)),
            RestingGroup(
                group: .shard(streamID: "0f9a-stream", shard: ShardID(index: 7)),
                term: Term(12),
                leader: NodeID(UInt64.max),
                commit: LogIndex(UInt64(Int64.max))
            ),
        ])
        let bytes = call.encoded()
        #expect(bytes[1] == 18)
        #expect(try PeerCall(decoding: bytes) == call)
        #expect(try PeerCall(decoding: PeerCall.restCheck([]).encoded()) == .restCheck([]))
        for answer in [PeerAnswer.restCheck(disagreeing: []), .restCheck(disagreeing: [0, 1, 9])] {
            #expect(try PeerAnswer(decoding: answer.encoded()) == answer)
        }
        // Every truncation is an error, never a trap or a shorter list.
        for length in 0..<bytes.count {
            #expect(throws: WireError.self) { _ = try PeerCall(decoding: Array(bytes.prefix(length))) }
        }
        var badTag = bytes
        badTag[6] = 9
        #expect(throws: WireError.self) { _ = try PeerCall(decoding: badTag) }
        var hugeIndex = PeerCall.restCheck([
            RestingGroup(group: .meta, term: Term(1), leader: NodeID(1), commit: LogIndex(1))
        ]).encoded()
        hugeIndex.replaceSubrange(hugeIndex.count - 8..<hugeIndex.count, with: [0xff, 0, 0, 0, 0, 0, 0, 0])
        #expect(throws: WireError.self) { _ = try PeerCall(decoding: hugeIndex) }
        var hugeCount = bytes
        hugeCount.replaceSubrange(2..<6, with: [0xff, 0xff, 0xff, 0xff])
        #expect(throws: WireError.self) { _ = try PeerCall(decoding: hugeCount) }
        // Seeded damage: any byte of a call flipped decodes to some call or throws, and never traps.
        var random = SplitMix64(seed: 18)
        for _ in 0..<2_000 {
            var damaged = bytes
            for _ in 0..<Int(random.next() % 3 + 1) {
                damaged[Int(random.next() % UInt64(damaged.count))] = UInt8(truncatingIfNeeded: random.next())
            }
            _ = try? PeerCall(decoding: damaged)
        }
        var hugeAnswer = PeerAnswer.restCheck(disagreeing: [1]).encoded()
        hugeAnswer.replaceSubrange(2..<6, with: [0xff, 0xff, 0xff, 0xff])
        #expect(throws: WireError.self) { _ = try PeerAnswer(decoding: hugeAnswer) }
    }
}
