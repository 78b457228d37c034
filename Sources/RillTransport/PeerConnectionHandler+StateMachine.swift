import RillModel

extension PeerConnectionHandler {
    /// The handshake and frame routing of one connection, free of NIO: the handler feeds it frames and
    /// performs the action it returns.
    struct StateMachine {
        enum Role {
            /// We dialled `peer` and sent `hello`; waiting for `helloAck`.
            case connector(peer: NodeID, channel: PeerChannelKind)
            /// The peer dialled us; waiting for its `hello`, which must prove `secret` when there is one.
            case acceptor(clusterID: String, secret: [UInt8]? = nil)
        }

        enum State {
            case awaitingAck(peer: NodeID, channel: PeerChannelKind)
            case awaitingHello(clusterID: String, secret: [UInt8]?)
            case established(peer: NodeID, channel: PeerChannelKind, connector: Bool)
            case closed
        }

        enum Action: Equatable {
            /// Acceptor: the hello is good; answer with an accepting `helloAck`.
            case accept(PeerFrame.Hello)
            /// Acceptor: answer with a refusing `helloAck`, log `reason`, close.
            case refuse(reason: String)
            /// Connector: the acceptor, speaking `peerVersion`, took us; the connection is usable.
            case handshakeCompleted(peerVersion: UInt8)
            /// Connector: the acceptor refused us; log and close.
            case handshakeRefused(reason: String)
            case deliverRaft([GroupMessage], from: NodeID)
            case deliverRequest(id: UInt64, payload: [UInt8], from: NodeID)
            case deliverResponse(id: UInt64, payload: [UInt8])
            case deliverGossip([UInt8], from: NodeID)
            /// A frame that has no place here: log and close.
            case violation(String)
            /// Already closing: ignore.
            case ignore
        }

        private(set) var state: State

        init(role: Role) {
            switch role {
            case .connector(let peer, let channel): state = .awaitingAck(peer: peer, channel: channel)
            case .acceptor(let clusterID, let secret): state = .awaitingHello(clusterID: clusterID, secret: secret)
            }
        }

        var isEstablished: Bool {
            if case .established = state { return true }
            return false
        }

        var peer: NodeID? {
            switch state {
            case .awaitingAck(let peer, _), .established(let peer, _, _): peer
            case .awaitingHello, .closed: nil
            }
        }

        /// `nowMillis` is the wall time, against which a hello's proof of the cluster secret is dated.
        mutating func frameReceived(_ frame: PeerFrame, nowMillis: Int64 = 0) -> Action {
            switch (state, frame) {
            case (.closed, _):
                return .ignore
            case (.awaitingHello(let clusterID, let secret), .hello(let hello)):
                // The secret first: a peer that cannot prove it learns nothing, not even whether its cluster id
                // is this one.
                if let secret, let refusal = HelloProof.refusal(of: hello, secret: secret, nowMillis: nowMillis) {
                    state = .closed
                    return .refuse(reason: refusal)
                }
                // A wiped or stray node must never talk to another cluster (ARCHITECTURE.md "Bootstrap"). Only
                // discovery crosses that line: a node not yet in a cluster (empty id) may ask on the RPC channel,
                // and answers such questions, but never carries Raft traffic.
                let forming = hello.channel == .rpc && (hello.clusterID.isEmpty || clusterID.isEmpty)
                guard hello.clusterID == clusterID || forming else {
                    state = .closed
                    return .refuse(reason: "cluster \(hello.clusterID) is not this cluster \(clusterID)")
                }
                state = .established(peer: hello.nodeID, channel: hello.channel, connector: false)
                return .accept(hello)
            case (.awaitingAck(let peer, let channel), .helloAck(let accepted, let reason)):
                guard accepted else {
                    state = .closed
                    return .handshakeRefused(reason: reason)
                }
                state = .established(peer: peer, channel: channel, connector: true)
                return .handshakeCompleted(peerVersion: PeerProtocol.version(fromAcceptReason: reason))
            case (.established(let peer, .raft, false), .raft(let messages)):
                return .deliverRaft(messages, from: peer)
            case (.established(let peer, .raft, false), .heartbeats(let batch)):
                // Fanned out here, so the groups step the very messages their peers' groups sent.
                return .deliverRaft(batch.messages, from: peer)
            case (.established(let peer, .rpc, false), .request(let id, let payload)):
                return .deliverRequest(id: id, payload: payload, from: peer)
            case (.established(_, .rpc, true), .response(let id, let payload)):
                return .deliverResponse(id: id, payload: payload)
            case (.established(let peer, .gossip, _), .gossip(let payload)):
                // Both directions: an answer to a member not yet known goes back on the connection it came in.
                return .deliverGossip(payload, from: peer)
            default:
                state = .closed
                return .violation("unexpected \(frame.kindName) frame")
            }
        }

        /// A decode error or handshake timeout: the connection is done.
        mutating func failed() { state = .closed }
    }
}

extension PeerFrame {
    /// For log lines: the case without its (possibly large) contents.
    var kindName: String {
        switch self {
        case .hello: "hello"
        case .helloAck: "helloAck"
        case .raft: "raft"
        case .request: "request"
        case .response: "response"
        case .gossip: "gossip"
        case .heartbeats: "heartbeats"
        }
    }
}
