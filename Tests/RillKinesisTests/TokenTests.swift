import RillKinesis
import RillModel
import Testing

@Suite struct TokenTests {
    let key = Array("0123456789abcdef0123456789abcdef".utf8)
    var iterator: ShardIterator {
        ShardIterator(
            region: "us-east-1",
            streamName: "orders",
            streamID: "abcdefghij0123456789-xyz",
            streamCreatedMillis: 1_700_000_000_000,
            shardIndex: 3,
            position: LogPosition(index: LogIndex(42), slot: 9),
            issuedMillis: 1_700_000_100_000
        )
    }

    @Test("iterators round trip, fit 512 characters, and tolerate surrounding quotes")
    func roundTrip() throws {
        let token = iterator.token(key: key)
        #expect(token.count <= 512)
        #expect(ShardIterator(token: token, key: key) == iterator)
        #expect(ShardIterator(token: "\"" + token + "\"", key: key) == iterator)
    }

    @Test("a tampered or foreign iterator is refused")
    func tampering() {
        var bytes = Array(iterator.token(key: key).utf8)
        bytes[10] = bytes[10] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(ShardIterator(token: String(decoding: bytes, as: UTF8.self), key: key) == nil)
        #expect(ShardIterator(token: iterator.token(key: key), key: Array("another key".utf8)) == nil)
        #expect(ShardIterator(token: "garbage", key: key) == nil)
        #expect(ShardIterator(token: "", key: key) == nil)
    }

    @Test("page tokens expire after 300 s")
    func pageTokens() {
        let token = PageToken.encode(["s", "us-east-1", "shardId-000000000001"], now: 1000)
        #expect(PageToken.decode(token, now: 2000) == .live(["s", "us-east-1", "shardId-000000000001"]))
        #expect(PageToken.decode(token, now: 1000 + 300_001) == .expired)
        #expect(PageToken.decode("nonsense", now: 0) == nil)
    }

    @Test("record batches round trip and refuse truncation")
    func recordBatches() throws {
        let batch = RecordBatch(records: [
            .init(partitionKey: "k1", data: []), .init(partitionKey: "ключ", data: Array(repeating: 7, count: 1000)),
        ])
        let bytes = batch.encoded()
        #expect(try RecordBatch(decoding: bytes) == batch)
        for cut in [0, 1, 5, bytes.count - 1] {
            #expect(throws: RecordBatch.DecodeError.self) { try RecordBatch(decoding: Array(bytes.prefix(cut))) }
        }
    }

    @Test("the catalog applies commands deterministically and reports conflicts as values")
    func catalog() {
        var catalog = Catalog()
        let ns = Namespace(account: "000000000000", region: "us-east-1")
        let create = CreateStreamCommand(
            namespace: ns,
            name: "s",
            id: "id",
            shardCount: 3,
            mode: .provisioned,
            createdMillis: 5,
            epoch: 7,
            tags: [:],
            maxRecordSizeKiB: 1024
        )
        _ = catalog.apply(.setMembers([ClusterMember(id: 1, zone: "az-a")]), at: LogIndex(1))
        #expect((try? catalog.apply(.createStream(create), at: LogIndex(1)).get()) != nil)
        #expect(catalog.stream("s", in: ns)?.shards.count == 3)
        if case .failure(let error) = catalog.apply(.createStream(create), at: LogIndex(2)) {
            #expect(error.code == .resourceInUse)
        } else {
            Issue.record("duplicate create succeeded")
        }
        #expect(catalog.stream("s", in: Namespace(account: "000000000000", region: "eu-west-1")) == nil)
        _ = catalog.apply(.deleteStream(namespace: ns, name: "s"), at: LogIndex(3))
        #expect(catalog.stream("s", in: ns) == nil)
        #expect(catalog.appliedIndex == LogIndex(3))
    }
}
