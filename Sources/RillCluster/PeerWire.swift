import RillAPI
import RillKinesis
import RillModel

// The wire forms of the values peer calls and answers carry: member addresses, write totals and producer
// stamps.

extension WireWriter {
    package mutating func member(_ member: MemberAddress) {
        u64(member.id)
        string(member.zone)
        string(member.peer)
        string(member.api)
        string(member.nonce)
    }

    package mutating func members(_ members: [MemberAddress]) {
        u32(UInt32(members.count))
        for each in members { member(each) }
    }
}

extension WireReader {
    /// `PeerAnswer.writeTotals`, with counts checked against what the bytes can hold before anything is
    /// allocated.
    package mutating func writeTotals() throws(WireError) -> [ShardWriteMeter.Totals] {
        let count = Int(try u32())
        guard count <= 1_000_000 else { throw WireError(description: "\(count) shard totals") }
        var totals: [ShardWriteMeter.Totals] = []
        for _ in 0..<count {
            let key = ShardWriteMeter.Key(streamID: try string(), shard: try u32())
            let records = try u64()
            let bytes = try u64()
            let samples = Int(try u32())
            guard samples <= ShardWriteMeter.sampleCapacity else { throw WireError(description: "\(samples) samples") }
            var keys: [HashKey] = []
            keys.reserveCapacity(samples)
            for _ in 0..<samples {
                let high = UInt128(try u64())
                keys.append(HashKey(high << 64 | UInt128(try u64())))
            }
            totals.append(.init(key: key, records: records, bytes: bytes, sampledHashKeys: keys))
        }
        return totals
    }

    package mutating func member() throws(WireError) -> MemberAddress {
        MemberAddress(id: try u64(), zone: try string(), peer: try string(), api: try string(), nonce: try string())
    }

    package mutating func members() throws(WireError) -> [MemberAddress] {
        let count = Int(try u32())
        guard count <= 4096 else { throw WireError(description: "\(count) members") }
        var members: [MemberAddress] = []
        for _ in 0..<count { members.append(try member()) }
        return members
    }
}

extension WireWriter {
    package mutating func producer(_ stamp: ProducerStamp) {
        string(stamp.producerID)
        u32(UInt32(stamp.sequences.count))
        for sequence in stamp.sequences { u64(sequence) }
    }
}

extension WireReader {
    package mutating func producer() throws(WireError) -> ProducerStamp {
        let id = try string()
        let count = Int(try u32())
        guard count >= 1, count <= 500 else { throw WireError(description: "\(count) producer sequences") }
        var sequences: [UInt64] = []
        for _ in 0..<count { sequences.append(try u64()) }
        return ProducerStamp(producerID: id, sequences: sequences)
    }
}
