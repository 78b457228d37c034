import RillKinesis
import RillModel
import RillTransport

/// The pieces of the admin endpoints' JSON that nodes and routers write alike.
package enum AdminJSON {
    /// One member of `/admin/status`, the same shape on nodes and routers.
    package static func writeMember(
        id: UInt64,
        zone: String,
        role: String,
        state: String,
        incarnation: UInt64?,
        peer: String,
        api: String,
        into w: inout JSONWriter
    ) {
        w.beginObject()
        w.key("id")
        w.int(id)
        w.key("zone")
        w.string(zone)
        w.key("role")
        w.string(role)
        w.key("state")
        w.string(state)
        w.key("incarnation")
        if let incarnation { w.int(incarnation) } else { w.raw(Array("null".utf8)) }
        w.key("peer")
        w.string(peer)
        w.key("api")
        w.string(api)
        w.endObject()
    }

    /// The `isolated`, `drop` and `delay` members of a fault answer, shared by nodes and routers.
    package static func writeTransportFaults(_ transport: PeerTransport?, into w: inout JSONWriter) {
        let faults = transport?.injectedFaults ?? InjectedTransportFaults()
        let (isolated, drops) = (faults.isolated, faults.dropProbability)
        w.key("isolated")
        w.beginArray()
        for peer in isolated.sorted(by: { $0.rawValue < $1.rawValue }) { w.int(Int(peer.rawValue)) }
        w.endArray()
        w.key("drop")
        w.beginArray()
        for (peer, probability) in drops.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            w.beginObject()
            w.key("peer")
            w.int(Int(peer.rawValue))
            w.key("probability")
            w.raw(Array("\(probability)".utf8))
            w.endObject()
        }
        w.endArray()
        w.key("delay")
        w.beginArray()
        for (peer, delay) in faults.delays.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            w.beginObject()
            w.key("peer")
            w.int(Int(peer.rawValue))
            w.key("millis")
            w.int(Int(delay.fixed / .milliseconds(1)))
            w.key("jitterMillis")
            w.int(Int(delay.jitter / .milliseconds(1)))
            w.endObject()
        }
        w.endArray()
    }
}
