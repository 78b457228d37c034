import Testing

@testable import RillCluster

@Suite struct PeerCallTests {
    @Test("only a small append or a small forwarded PutRecord is served on the event loop")
    func smallWritesAreRecognizedFromTheirBytes() {
        let small = [UInt8](repeating: 7, count: 1024)
        let big = [UInt8](repeating: 7, count: 32 << 10)
        #expect(PeerCall.isSmallWrite(PeerCall.append(streamID: "s", shard: 0, batch: small).encoded()))
        #expect(!PeerCall.isSmallWrite(PeerCall.append(streamID: "s", shard: 0, batch: big).encoded()))
        let put = PeerCall.forward(operation: "PutRecord", signedRegion: nil, requestID: "r", body: small)
        #expect(PeerCall.isSmallWrite(put.encoded()))
        #expect(
            !PeerCall.isSmallWrite(
                PeerCall.forward(operation: "PutRecord", signedRegion: nil, requestID: "r", body: big).encoded()
            )
        )
        for operation in ["PutRecords", "GetRecords", "PutRecor"] {
            let call = PeerCall.forward(operation: operation, signedRegion: nil, requestID: "r", body: small)
            #expect(!PeerCall.isSmallWrite(call.encoded()), "\(operation)")
        }
        #expect(!PeerCall.isSmallWrite(PeerCall.seal(streamID: "s", shard: 0).encoded()))
        #expect(!PeerCall.isSmallWrite(PeerCall.routes(streamName: "s", streamARN: nil, signedRegion: nil).encoded()))
        #expect(!PeerCall.isSmallWrite([]))
    }
}
