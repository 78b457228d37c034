import NIOCore
import RillModel
import RillRaft

// The wire layout is documented on `PeerFrame` (PeerFrame.swift).

extension PeerFrame {
    /// The largest `length` field accepted (32 MiB): above every legal frame, far below what would hurt a node.
    public static let maximumLength = 32 * 1024 * 1024

    enum Kind: UInt8 {
        case hello = 1
        case helloAck = 2
        case raft = 3
        case request = 4
        case response = 5
        case gossip = 6
        case heartbeats = 7

        /// The protocol version that introduced the kind: a frame claiming an older one is malformed.
        var since: UInt8 { self == .heartbeats ? 2 : 1 }
    }

    /// The version written in this frame's header: the one that introduced its kind, so that a peer of that
    /// version, or any later one, reads it (`PeerProtocol`).
    public var protocolVersion: UInt8 {
        if case .heartbeats = self { return Kind.heartbeats.since }
        return 1
    }

    /// Appends the whole frame, length prefix included, to `buffer`.
    public func write(to buffer: inout ByteBuffer) {
        let lengthIndex = buffer.writerIndex
        buffer.writeInteger(UInt32(0))
        buffer.writeInteger(protocolVersion)
        switch self {
        case .hello(let hello):
            buffer.writeInteger(Kind.hello.rawValue)
            buffer.writeInteger(hello.channel.rawValue)
            buffer.writeInteger(hello.nodeID.rawValue)
            buffer.writeInteger(hello.generation)
            buffer.writeWireString(hello.clusterID)
            if let proof = hello.proof {
                buffer.writeInteger(proof.timestampMillis)
                buffer.writeBytes(proof.nonce)
                buffer.writeBytes(proof.mac)
            }
        case .helloAck(let accepted, let reason):
            buffer.writeInteger(Kind.helloAck.rawValue)
            buffer.writeInteger(UInt8(accepted ? 1 : 0))
            buffer.writeWireString(reason)
        case .raft(let messages):
            buffer.writeInteger(Kind.raft.rawValue)
            buffer.writeInteger(UInt32(messages.count))
            for message in messages { buffer.writeGroupMessage(message) }
        case .request(let id, let payload):
            buffer.writeInteger(Kind.request.rawValue)
            buffer.writeInteger(id)
            buffer.writeWireBytes(payload)
        case .response(let id, let payload):
            buffer.writeInteger(Kind.response.rawValue)
            buffer.writeInteger(id)
            buffer.writeWireBytes(payload)
        case .gossip(let payload):
            buffer.writeInteger(Kind.gossip.rawValue)
            buffer.writeWireBytes(payload)
        case .heartbeats(let batch):
            buffer.writeInteger(Kind.heartbeats.rawValue)
            batch.write(to: &buffer)
        }
        let length = buffer.writerIndex - lengthIndex - 4
        buffer.setInteger(UInt32(truncatingIfNeeded: length), at: lengthIndex)
    }

    /// The frame as bytes, length prefix included.
    public var encoded: [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        write(to: &buffer)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    /// Decodes one frame from the start of `buffer`. Returns nil, consuming nothing, while the frame is
    /// incomplete; throws when the bytes can never become a valid frame. Never traps on any input.
    public static func read(from buffer: inout ByteBuffer) throws(PeerFrameError) -> PeerFrame? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        let frameLength = Int(length)
        guard frameLength <= maximumLength else { throw .frameTooLarge(length: frameLength) }
        guard frameLength >= 2 else { throw .frameTooShort(length: frameLength) }
        guard buffer.readableBytes >= 4 + frameLength else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        guard var body = buffer.readSlice(length: frameLength) else { return nil }  // checked just above
        return try decodeBody(&body)
    }

    /// Decodes a frame from bytes that hold exactly one frame (the inverse of `encoded`).
    public init(decoding bytes: [UInt8]) throws(PeerFrameError) {
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        guard let frame = try PeerFrame.read(from: &buffer) else { throw .truncated }
        guard buffer.readableBytes == 0 else { throw .trailingBytes(buffer.readableBytes) }
        self = frame
    }

    private static func decodeBody(_ body: inout ByteBuffer) throws(PeerFrameError) -> PeerFrame {
        let version: UInt8 = try body.readWire()
        guard (PeerProtocol.oldestVersion...PeerProtocol.version).contains(version) else {
            throw .unsupportedVersion(version)
        }
        let kindByte: UInt8 = try body.readWire()
        // A kind newer than the frame's version is one that version does not have.
        guard let kind = Kind(rawValue: kindByte), kind.since <= version else { throw .unknownFrameKind(kindByte) }
        let frame: PeerFrame
        switch kind {
        case .hello:
            let channelByte: UInt8 = try body.readWire()
            guard let channel = PeerChannelKind(rawValue: channelByte) else {
                throw .unknownTag(what: "channel", tag: channelByte)
            }
            let node: UInt64 = try body.readWire()
            let generation: UInt64 = try body.readWire()
            let clusterID = try body.readWireString()
            var proof: HelloProof? = nil
            if body.readableBytes > 0 {
                let millis: Int64 = try body.readWire()
                guard let nonce = body.readBytes(length: HelloProof.nonceBytes),
                    let mac = body.readBytes(length: HelloProof.macBytes)
                else { throw .truncated }
                proof = HelloProof(timestampMillis: millis, nonce: nonce, mac: mac)
            }
            frame = .hello(
                Hello(
                    clusterID: clusterID,
                    nodeID: NodeID(node),
                    generation: generation,
                    channel: channel,
                    proof: proof
                )
            )
        case .helloAck:
            let accepted = try body.readWireBool(what: "accepted")
            frame = .helloAck(accepted: accepted, reason: try body.readWireString())
        case .raft:
            let count: UInt32 = try body.readWire()
            // Every message takes at least 26 bytes, so a hostile count fails here instead of looping.
            guard Int(count) <= body.readableBytes / 26 else { throw .truncated }
            var messages: [GroupMessage] = []
            messages.reserveCapacity(Int(count))
            for _ in 0..<count { messages.append(try body.readGroupMessage()) }
            frame = .raft(messages)
        case .request:
            let id: UInt64 = try body.readWire()
            frame = .request(id: id, payload: try body.readWireBytes())
        case .response:
            let id: UInt64 = try body.readWire()
            frame = .response(id: id, payload: try body.readWireBytes())
        case .gossip:
            frame = .gossip(try body.readWireBytes())
        case .heartbeats:
            frame = .heartbeats(try HeartbeatBatch.read(from: &body))
        }
        guard body.readableBytes == 0 else { throw .trailingBytes(body.readableBytes) }
        return frame
    }
}

extension GroupMessage {
    /// An upper bound of the encoded size, computed without encoding; the sender packs frames with it.
    var wireSizeEstimate: Int {
        var size = 64
        if case .shard(let streamID, _) = group { size += streamID.utf8.count }
        switch message.body {
        case .appendEntries(_, _, let entries, _):
            for entry in entries { size += 33 + 4 + entry.payload.count }
        case .installSnapshot(let snapshot):
            size += 12 + 8 * snapshot.configuration.members.count + snapshot.state.count
        default: break
        }
        return size
    }
}

// MARK: - Field encoding

extension ByteBuffer {
    mutating func writeWireString(_ string: String) {
        let lengthIndex = writerIndex
        writeInteger(UInt32(0))
        let written = writeString(string)
        setInteger(UInt32(truncatingIfNeeded: written), at: lengthIndex)
    }

    mutating func writeWireBytes(_ bytes: [UInt8]) {
        writeInteger(UInt32(truncatingIfNeeded: bytes.count))
        writeBytes(bytes)
    }

    mutating func writeGroupMessage(_ groupMessage: GroupMessage) {
        switch groupMessage.group {
        case .meta:
            writeInteger(UInt8(0))
        case .shard(let streamID, let shard):
            writeInteger(UInt8(1))
            writeWireString(streamID)
            writeInteger(shard.index)
        }
        let message = groupMessage.message
        writeInteger(message.from.rawValue)
        writeInteger(message.to.rawValue)
        writeInteger(message.term.rawValue)
        switch message.body {
        case .appendEntries(let prevIndex, let prevTerm, let entries, let commit):
            writeInteger(UInt8(1))
            writeInteger(prevIndex.rawValue)
            writeInteger(prevTerm.rawValue)
            writeInteger(commit.rawValue)
            writeInteger(UInt32(truncatingIfNeeded: entries.count))
            for entry in entries {
                writeInteger(entry.term.rawValue)
                writeInteger(entry.index.rawValue)
                writeInteger(entry.kind.rawValue)
                writeInteger(entry.timestampMillis)
                writeWireBytes(entry.payload)
            }
        case .appendResponse(.accepted(let matchIndex)):
            writeInteger(UInt8(2))
            writeInteger(UInt8(1))
            writeInteger(matchIndex.rawValue)
        case .appendResponse(.rejected(let index, let hintIndex, let hintTerm)):
            writeInteger(UInt8(2))
            writeInteger(UInt8(2))
            writeInteger(index.rawValue)
            writeInteger(hintIndex.rawValue)
            writeInteger(hintTerm.rawValue)
        case .heartbeat(let commit):
            writeInteger(UInt8(3))
            writeInteger(commit.rawValue)
        case .heartbeatResponse:
            writeInteger(UInt8(4))
        case .requestVote(let lastIndex, let lastTerm, let preVote, let transfer):
            writeInteger(UInt8(5))
            writeInteger(lastIndex.rawValue)
            writeInteger(lastTerm.rawValue)
            writeInteger(UInt8((preVote ? 1 : 0) | (transfer ? 2 : 0)))
        case .voteResponse(let granted, let preVote):
            writeInteger(UInt8(6))
            writeInteger(UInt8((granted ? 1 : 0) | (preVote ? 2 : 0)))
        case .timeoutNow:
            writeInteger(UInt8(7))
        case .installSnapshot(let snapshot):
            writeInteger(UInt8(8))
            writeInteger(snapshot.index.rawValue)
            writeInteger(snapshot.term.rawValue)
            for set in [snapshot.configuration.voters, snapshot.configuration.learners] {
                writeInteger(UInt32(truncatingIfNeeded: set.count))
                for id in set.sorted() { writeInteger(id.rawValue) }
            }
            writeWireBytes(snapshot.state)
        }
    }
}

// MARK: - Field decoding

extension ByteBuffer {
    mutating func readWire<T: FixedWidthInteger>(_: T.Type = T.self) throws(PeerFrameError) -> T {
        guard let value = readInteger(as: T.self) else { throw .truncated }
        return value
    }

    mutating func readWireBool(what: String) throws(PeerFrameError) -> Bool {
        let byte: UInt8 = try readWire()
        switch byte {
        case 0: return false
        case 1: return true
        default: throw .unknownTag(what: what, tag: byte)
        }
    }

    mutating func readWireFlags(what: String, allowed: UInt8) throws(PeerFrameError) -> UInt8 {
        let byte: UInt8 = try readWire()
        guard byte & ~allowed == 0 else { throw .unknownTag(what: what, tag: byte) }
        return byte
    }

    mutating func readWireBytes() throws(PeerFrameError) -> [UInt8] {
        let count: UInt32 = try readWire()
        // readBytes copies with memcpy and returns nil rather than reading past the end.
        guard let bytes = readBytes(length: Int(count)) else { throw .truncated }
        return bytes
    }

    mutating func readWireString() throws(PeerFrameError) -> String {
        let count: UInt32 = try readWire()
        guard let view = readSlice(length: Int(count)) else { throw .truncated }
        guard let string = String(validating: view.readableBytesView, as: UTF8.self) else { throw .invalidUTF8 }
        return string
    }

    mutating func readIndex() throws(PeerFrameError) -> LogIndex {
        let raw: UInt64 = try readWire()
        guard raw <= UInt64(Int64.max) else { throw .indexOutOfRange(raw) }
        return LogIndex(raw)
    }
    mutating func readTerm() throws(PeerFrameError) -> Term { Term(try readWire(UInt64.self)) }

    mutating func readGroupMessage() throws(PeerFrameError) -> GroupMessage {
        let groupTag: UInt8 = try readWire()
        let group: RaftGroupID
        switch groupTag {
        case 0: group = .meta
        case 1:
            let streamID = try readWireString()
            group = .shard(streamID: streamID, shard: ShardID(index: try readWire()))
        default: throw .unknownTag(what: "group", tag: groupTag)
        }
        let from = NodeID(try readWire(UInt64.self))
        let to = NodeID(try readWire(UInt64.self))
        let term = try readTerm()
        let bodyTag: UInt8 = try readWire()
        let body: Raft.Body
        switch bodyTag {
        case 1:
            let prevIndex = try readIndex()
            let prevTerm = try readTerm()
            let commit = try readIndex()
            let count: UInt32 = try readWire()
            // An entry takes at least 29 bytes: bound the loop and the reservation by what is really here.
            guard Int(count) <= readableBytes / 29 else { throw .truncated }
            var entries: [LogEntry] = []
            entries.reserveCapacity(Int(count))
            for _ in 0..<count {
                let entryTerm = try readTerm()
                let index = try readIndex()
                let kindByte: UInt8 = try readWire()
                guard let kind = EntryKind(rawValue: kindByte) else {
                    throw .unknownTag(what: "entry kind", tag: kindByte)
                }
                let timestamp: Int64 = try readWire()
                let payload = try readWireBytes()
                entries.append(
                    LogEntry(term: entryTerm, index: index, kind: kind, timestampMillis: timestamp, payload: payload)
                )
            }
            body = .appendEntries(prevIndex: prevIndex, prevTerm: prevTerm, entries: entries, commit: commit)
        case 2:
            let resultTag: UInt8 = try readWire()
            switch resultTag {
            case 1: body = .appendResponse(.accepted(matchIndex: try readIndex()))
            case 2:
                let index = try readIndex()
                let hintIndex = try readIndex()
                body = .appendResponse(.rejected(index: index, hintIndex: hintIndex, hintTerm: try readTerm()))
            default: throw .unknownTag(what: "append result", tag: resultTag)
            }
        case 3: body = .heartbeat(commit: try readIndex())
        case 4: body = .heartbeatResponse
        case 5:
            let lastIndex = try readIndex()
            let lastTerm = try readTerm()
            let flags = try readWireFlags(what: "vote flags", allowed: 3)
            body = .requestVote(
                lastIndex: lastIndex,
                lastTerm: lastTerm,
                preVote: flags & 1 != 0,
                transfer: flags & 2 != 0
            )
        case 6:
            let flags = try readWireFlags(what: "vote response flags", allowed: 3)
            body = .voteResponse(granted: flags & 1 != 0, preVote: flags & 2 != 0)
        case 7: body = .timeoutNow
        case 8:
            let index = try readIndex()
            let snapshotTerm = try readTerm()
            var sets: [Set<NodeID>] = []
            for _ in 0..<2 {
                let count: UInt32 = try readWire()
                guard Int(count) <= readableBytes / 8 else { throw .truncated }
                var set: Set<NodeID> = []
                for _ in 0..<count { set.insert(NodeID(try readWire(UInt64.self))) }
                sets.append(set)
            }
            let state = try readWireBytes()
            let configuration = Raft.Configuration(voters: sets[0], learners: sets[1])
            body = .installSnapshot(
                Raft.Snapshot(index: index, term: snapshotTerm, configuration: configuration, state: state)
            )
        default: throw .unknownTag(what: "message body", tag: bodyTag)
        }
        return GroupMessage(group: group, message: Raft.Message(from: from, to: to, term: term, body: body))
    }
}
