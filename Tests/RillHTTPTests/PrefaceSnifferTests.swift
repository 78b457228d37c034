import Testing

@testable import RillHTTP

struct PrefaceSnifferTests {
    static let preface = PrefaceSniffer.preface

    @Test func theWholePrefaceIsHTTP2() {
        var sniffer = PrefaceSniffer()
        #expect(sniffer.feed(Self.preface) == .http2)
    }

    @Test func thePrefaceByteByByteWaitsUntilItsLastByte() {
        var sniffer = PrefaceSniffer()
        for byte in Self.preface.dropLast() {
            #expect(sniffer.feed([byte]) == .needMore)
        }
        #expect(sniffer.feed([Self.preface.last!]) == .http2)
    }

    @Test(arguments: ["POST / HTTP/1.1\r\n", "GET /health HTTP/1.1\r\n", "PRI * HTTP/1.1\r\n", "P", "PUT"])
    func anHTTP1RequestLineIsHTTP1AtItsFirstDifferentByte(_ line: String) {
        var sniffer = PrefaceSniffer()
        let bytes = Array(line.utf8)
        let decision = sniffer.feed(bytes)
        let common = zip(bytes, Self.preface).prefix { $0 == $1 }.count
        #expect(decision == (common == bytes.count ? .needMore : .http1))
        if decision == .http1 { #expect(sniffer.matched == common) }
    }

    @Test func bytesAfterThePrefaceDoNotChangeTheDecision() {
        var sniffer = PrefaceSniffer()
        #expect(sniffer.feed(Self.preface + [0, 0, 0, 4, 0, 0, 0, 0, 0]) == .http2)
        #expect(sniffer.feed(Array("GET".utf8)) == .http2)
    }

    @Test func aConnectionEndingMidPrefaceIsHTTP1() {
        var sniffer = PrefaceSniffer()
        #expect(sniffer.feed(Self.preface.prefix(10)) == .needMore)
        #expect(sniffer.end() == .http1)
        #expect(sniffer.feed(Self.preface.suffix(14)) == .http1)
    }

    @Test func nothingAtAllIsHTTP1() {
        var sniffer = PrefaceSniffer()
        #expect(sniffer.end() == .http1)
    }
}
