import NIOCore
import NIOHTTP1

/// `GET /console`: the one embedded page (`ConsoleAsset`). It loads nothing else; its script polls
/// `/admin/status` here and at every member's API address, the data `rill status` reads (docs/console.md).
enum ConsolePage {
    /// The page's bytes, made once.
    static let bytes = Array(ConsoleAsset.html.utf8)

    static func reply(requestID: String) -> HTTPReply {
        HTTPReply(
            status: .ok,
            headers: HTTPHeaders([
                ("Content-Type", "text/html; charset=utf-8"),
                // A new binary may serve a new page; the page itself polls, so caching it buys nothing.
                ("Cache-Control", "no-cache"),
                // Nothing but this page's own inline style and script, and the members' /admin/status.
                (
                    "Content-Security-Policy",
                    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src *; "
                        + "img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'"
                ),
                ("x-amzn-RequestId", requestID),
            ]),
            body: ByteBuffer(bytes: bytes)
        )
    }
}
