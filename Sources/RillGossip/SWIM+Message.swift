import RillModel

extension SWIM {
    /// A message between two instances. Every kind piggybacks `gossip`: member records the sender is still
    /// spreading (`SWIM+Dissemination.swift`). The byte layout is on `Message.encoded()` (`SWIM+Wire.swift`).
    public enum Message: Hashable, Sendable, CustomStringConvertible {
        /// A direct probe; the receiver answers `ack` with the same sequence.
        case ping(sequence: UInt64, gossip: [Member])
        /// Asks the receiver to probe `target` on the sender's behalf and relay its ack, or to `nack` if the
        /// target stays silent (SWIM §3.1; Lifeguard §4.3). `targetAddress` lets a relay that has not yet
        /// heard of the target still reach it.
        case pingRequest(sequence: UInt64, target: NodeID, targetAddress: String, gossip: [Member])
        /// `target` answered the probe `sequence`, directly or through a relay. `incarnation` is the one the
        /// target answered with; status changes still travel only as whole records in `gossip`, so an ack never
        /// separates an incarnation from its payload.
        case ack(sequence: UInt64, target: NodeID, incarnation: UInt64, gossip: [Member])
        /// A relay could not reach `target` in time. The prober counts nacks: missing ones mean its own
        /// messages are not getting through, and it raises its local health score (Lifeguard §4.3).
        case nack(sequence: UInt64, target: NodeID, gossip: [Member])
        /// The sender's whole state. The receiver merges it and, unless `isReply`, answers with its own.
        case pushPull(members: [Member], isReply: Bool)
        /// Updates with nothing to answer; sent on `leave()`.
        case gossip([Member])

        /// The piggybacked records, or the whole state for `pushPull`.
        public var members: [Member] {
            switch self {
            case .ping(_, let gossip), .pingRequest(_, _, _, let gossip), .ack(_, _, _, let gossip),
                .nack(_, _, let gossip), .pushPull(let gossip, _), .gossip(let gossip):
                gossip
            }
        }

        public var description: String {
            switch self {
            case .ping(let sequence, let gossip): "Ping #\(sequence) +\(gossip.count)"
            case .pingRequest(let sequence, let target, _, let gossip):
                "PingReq #\(sequence) \(target) +\(gossip.count)"
            case .ack(let sequence, let target, let incarnation, let gossip):
                "Ack #\(sequence) \(target) inc=\(incarnation) +\(gossip.count)"
            case .nack(let sequence, let target, let gossip): "Nack #\(sequence) \(target) +\(gossip.count)"
            case .pushPull(let members, let isReply): "\(isReply ? "PushPullReply" : "PushPull") \(members.count)"
            case .gossip(let gossip): "Gossip +\(gossip.count)"
            }
        }
    }

    /// Where a message goes.
    public enum Destination: Hashable, Sendable, CustomStringConvertible {
        /// A member by id, with its gossiped peer address; nil when the member is not yet known (an answer to a
        /// stranger), so the shell answers on the connection the stranger's message came in on.
        case node(NodeID, address: String?)
        /// A seed known only by address, before it has answered.
        case address(String)

        public var description: String {
            switch self {
            case .node(let id, let address): "\(id)@\(address ?? "?")"
            case .address(let address): address
            }
        }
    }

    /// What the shell must do, drained with `Instance.takeEffects()` in the order produced.
    public enum Effect: Hashable, Sendable, CustomStringConvertible {
        /// Send `message`; delivery is best effort (loss only delays detection).
        case send(Message, to: Destination)
        /// A member's record changed in this view (`old` is nil for a newcomer); includes our own record when
        /// we refute, leave or publish hints.
        case memberChanged(old: Member?, new: Member)
        /// A dead or left member's tombstone expired; it is forgotten.
        case memberRemoved(Member)

        public var description: String {
            switch self {
            case .send(let message, let destination): "send \(message) to \(destination)"
            case .memberChanged(let old, let new): "changed \(old.map { "\($0.status)" } ?? "new") -> \(new)"
            case .memberRemoved(let member): "removed \(member.id)"
            }
        }
    }
}
