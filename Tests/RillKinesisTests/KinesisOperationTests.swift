import RillKinesis
import Testing

@Suite struct KinesisOperationTests {
    @Test(
        "each family answers only under its own target prefix",
        arguments: [
            ("Kinesis_20131202.PutRecord", KinesisOperation.putRecord),
            ("RillConsumerGroups_20261206.AcquireLeases", .acquireLeases),
            ("RillConsumerGroups_20261206.Checkpoint", .checkpoint),
            ("Kinesis_20131202.Checkpoint", nil),
            ("RillConsumerGroups_20261206.PutRecord", nil),
            ("RillConsumerGroups_20261206.", nil),
            ("Checkpoint", nil),
        ] as [(String, KinesisOperation?)]
    )
    func parsing(target: String, expected: KinesisOperation?) {
        #expect(KinesisOperation(target: target) == expected)
    }

    @Test("every operation's target parses back to it")
    func roundTrip() {
        for operation in KinesisOperation.allCases { #expect(KinesisOperation(target: operation.target) == operation) }
    }
}
