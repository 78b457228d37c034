import Synchronization

/// Lock-free counters shared by the transport and its connection handlers (on any event loop).
final class TransportCounters: Sendable {
    let framesSent = Atomic<Int>(0)
    let framesReceived = Atomic<Int>(0)
    let bytesSent = Atomic<Int>(0)
    let bytesReceived = Atomic<Int>(0)
    let reconnects = Atomic<Int>(0)
    let droppedQueueFull = Atomic<Int>(0)
    let droppedByFault = Atomic<Int>(0)
    let delayedByFault = Atomic<Int>(0)
    let refusedHandshakes = Atomic<Int>(0)

    var snapshot: TransportStats {
        TransportStats(
            framesSent: framesSent.load(ordering: .relaxed),
            framesReceived: framesReceived.load(ordering: .relaxed),
            bytesSent: bytesSent.load(ordering: .relaxed),
            bytesReceived: bytesReceived.load(ordering: .relaxed),
            reconnects: reconnects.load(ordering: .relaxed),
            droppedQueueFull: droppedQueueFull.load(ordering: .relaxed),
            droppedByFault: droppedByFault.load(ordering: .relaxed),
            refusedHandshakes: refusedHandshakes.load(ordering: .relaxed)
        )
    }
}
