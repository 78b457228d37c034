import RillCluster
import RillKinesis
import RillModel
import RillRouting
import Testing

/// What a peer's answer means to the caller that forwarded a call (`Forwarder.failure`): the one mapping of
/// nodes and routers.
@Suite struct ForwarderFailureTests {
    @Test("NotLeader is a redirect with the answer's hint")
    func notLeaderRedirects() throws {
        let error = Forwarder.failure(.notLeader(hint: 3), from: NodeID(2))
        let redirect = try #require(error as? Redirect)
        #expect(redirect.hint == NodeID(3))
    }

    @Test("a NotLeader naming the answerer itself, or no one, is a redirect without a hint")
    func selfHintIsDropped() throws {
        #expect(try #require(Forwarder.failure(.notLeader(hint: 2), from: NodeID(2)) as? Redirect).hint == nil)
        #expect(try #require(Forwarder.failure(.notLeader(hint: nil), from: NodeID(2)) as? Redirect).hint == nil)
    }

    @Test(
        "a Kinesis error travels with its code and message; an unknown code is InternalFailure",
        arguments: [
            ("ResourceNotFoundException", KinesisErrorCode.resourceNotFound),
            ("ProvisionedThroughputExceededException", .provisionedThroughputExceeded),
            ("ValidationException", .validation),
            ("NoSuchThingException", .internalFailure),
        ]
    )
    func errorsKeepTheirCode(code: String, expected: KinesisErrorCode) throws {
        let error = try #require(Forwarder.failure(.error(code: code, message: "m"), from: NodeID(2)) as? KinesisError)
        #expect(error.code == expected)
        #expect(error.message == "m")
    }

    @Test("a sealed shard is ShardSealed, so the records are routed again")
    func sealedIsRoutedAgain() {
        #expect(Forwarder.failure(.shardSealed, from: NodeID(2)) is ShardSealed)
    }

    @Test("an unknown outcome is InternalFailure that says to retry")
    func indeterminateIsInternalFailure() throws {
        let error = try #require(Forwarder.failure(.indeterminate("timed out"), from: NodeID(2)) as? KinesisError)
        #expect(error.code == .internalFailure)
        #expect(error.message == "timed out; retry.")
    }

    @Test("an answer of the wrong kind is InternalFailure naming the node")
    func outOfTurn() throws {
        let error = try #require(Forwarder.failure(.sealed(index: 4), from: NodeID(2)) as? KinesisError)
        #expect(error.code == .internalFailure)
        #expect(error.message == "node 2 answered out of turn")
    }
}
