import NIOCore
import RillModel

extension PeerTransport {
    /// Receives inbound gossip with the sending member's id; called on an event loop, must not block.
    public func setGossipHandler(_ handler: @escaping GossipHandler) {
        state.withLock { $0.gossipHandler = handler }
    }

    /// Sends one gossip message, best effort: to `address` (`host:port`) over this node's gossip link to it,
    /// or, without an address, back on the connection `peer` last reached us on. Returns false when the
    /// message was dropped (no route, link backing off, injected fault).
    @discardableResult
    public func sendGossip(_ payload: [UInt8], to peer: NodeID?, address: String?) -> Bool {
        if settings.faultInjection, let peer, dropsGossip(to: peer) { return false }
        if let address, let parsed = PeerAddress(parsing: address) {
            guard let link = gossipLink(to: parsed, key: address, member: peer) else { return false }
            guard let peer, isDelaying(peer) else { return link.send(payload) }
            // Delayed, the message is out of our hands: report it sent, as a slow wire would.
            afterLinkDelay(to: peer) { link.send(payload) }
            return true
        }
        guard let peer, let channel = state.withLock({ $0.gossipChannels[peer] }) else { return false }
        afterLinkDelay(to: peer) {
            channel.writeAndFlush(PeerFrame.gossip(payload), promise: nil)
        }
        return true
    }

    func gossipArrived(_ payload: [UInt8], from peer: NodeID, on channel: any Channel) {
        guard !dropInbound(1, from: peer) else { return }
        let handler = state.withLock { state -> GossipHandler in
            state.gossipChannels[peer] = channel
            return state.gossipHandler
        }
        handler(payload, peer)
    }

    private func gossipLink(to address: PeerAddress, key: String, member: NodeID?) -> GossipLink? {
        var events = PeerConnectionEvents()
        events.gossipReceived = { [weak self] payload, peer, channel in
            self?.gossipArrived(payload, from: peer, on: channel)
        }
        let connector = connector
        let (link, replaced) = state.withLock { state -> (GossipLink?, GossipLink?) in
            guard !state.isShutdown else { return (nil, nil) }
            var replaced: GossipLink?
            if let link = state.gossipLinks[key] {
                // A link made for a seed address does not know whose traffic it carries; once gossip names the
                // member there, a fresh link counts for it (`/metrics`). Once per seed: best effort, like gossip.
                guard link.member == nil, member != nil else { return (link, nil) }
                replaced = state.gossipLinks.removeValue(forKey: key)
            }
            // Members come and go by address; a bound keeps a churning cluster from growing this map forever.
            if state.gossipLinks.count >= 1024, let stale = state.gossipLinks.keys.first {
                state.gossipLinks.removeValue(forKey: stale)?.close()
            }
            let link = GossipLink(address: address, member: member, connector: connector, events: events)
            state.gossipLinks[key] = link
            return (link, replaced)
        }
        replaced?.close()
        return link
    }
}

extension PeerAddress {
    /// `host:port`, the last colon separating the port (so `[::1]:7000` and `::1:7000` both work).
    init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }
}
