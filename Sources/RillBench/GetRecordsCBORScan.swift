import NIOCore
import RillClient
import RillKinesis

/// The CBOR twin of `GetRecordsScan`: one pass over a CBOR GetRecords reply that measures each `Data`
/// byte string and copies out only `NextShardIterator` and `MillisBehindLatest`, so the bench client
/// spends on a CBOR reply what it spends on a JSON one (it shares the machine with the server measured).
enum GetRecordsCBORScan {
    /// Whether a reply body is CBOR (a map head, 0xa0–0xbf) rather than JSON (`{`).
    static func isCBOR(_ body: ByteBuffer) -> Bool { KinesisReply.isCBOR(body) }

    static func summary(of body: ByteBuffer) -> GetRecordsSummary? {
        body.withUnsafeReadableBytes { raw in
            var cursor = CBORCursor(raw.bindMemory(to: UInt8.self))
            return try? reply(&cursor)
        }
    }

    private static func reply(_ cursor: inout CBORCursor) throws(CBORFailure) -> GetRecordsSummary {
        var summary = GetRecordsSummary()
        try forEachMember(&cursor) { (cursor, key) throws(CBORFailure) in
            switch key {
            case "Records":
                try forEachElement(&cursor) { (cursor) throws(CBORFailure) in
                    var size = 0
                    try forEachMember(&cursor) { (cursor, key) throws(CBORFailure) in
                        if key == "Data" {
                            let head = try cursor.readHead()
                            try cursor.stringPayload(head) { size += $0.count }
                        } else {
                            try cursor.skipItem()
                        }
                    }
                    summary.recordSizes.append(size)
                }
            case "NextShardIterator":
                let head = try cursor.readHead()
                if head.major == 3 { summary.nextShardIterator = try cursor.text(head) }
            case "MillisBehindLatest":
                let head = try cursor.readHead()
                if head.major == 0 { summary.millisBehindLatest = Int(clamping: head.argument) }
            default: try cursor.skipItem()
            }
        }
        return summary
    }

    private static func forEachMember(
        _ cursor: inout CBORCursor,
        _ body: (inout CBORCursor, String) throws(CBORFailure) -> Void
    ) throws(CBORFailure) {
        let head = try cursor.readHead()
        guard head.major == 5 else { throw cursor.failure("not a map") }
        var remaining = head.argument
        while try cursor.hasMore(head, remaining: &remaining) {
            let keyHead = try cursor.readHead()
            guard keyHead.major == 3 else { throw cursor.failure("not a text key") }
            try body(&cursor, try cursor.text(keyHead))
        }
    }

    private static func forEachElement(
        _ cursor: inout CBORCursor,
        _ body: (inout CBORCursor) throws(CBORFailure) -> Void
    ) throws(CBORFailure) {
        let head = try cursor.readHead()
        guard head.major == 4 else { throw cursor.failure("not an array") }
        var remaining = head.argument
        while try cursor.hasMore(head, remaining: &remaining) {
            try body(&cursor)
        }
    }
}
