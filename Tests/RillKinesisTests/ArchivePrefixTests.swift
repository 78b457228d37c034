import RillKinesis
import Testing

/// Firehose's custom prefixes (developer guide, "Custom Prefixes for Amazon S3 Objects"): expressions, the
/// semantic rules and their messages, and the random strings a replay must repeat.
@Suite struct ArchivePrefixTests {
    // 2018-08-27T10:30:05.123Z, a Monday (the guide's examples are at 10:30 AM UTC on Aug 27, 2018).
    static let instant: Int64 = 1_535_365_805_123

    @Test(
        "a timestamp expression formats the arrival in UTC by a Java DateTimeFormatter pattern",
        arguments: [
            ("yyyy", "2018"), ("yy", "18"), ("yyyy/MM/dd/HH/", "2018/08/27/10/"), ("MMM", "Aug"),
            ("MMMM", "August"), ("M", "8"), ("d", "27"), ("D", "239"), ("DDD", "239"), ("E", "Mon"),
            ("EEEE", "Monday"), ("hh a", "10 AM"), ("mm:ss.SSS", "30:05.123"), ("SS", "12"),
            ("'year='yyyy'/month='MM", "year=2018/month=08"), ("'it''s' H", "it's 10"), ("''yyyy''", "'2018'"),
            ("uuuu-MM-dd", "2018-08-27"), ("k", "10"), ("K", "10"),
        ]
    )
    func timestampPatterns(pattern: String, expected: String) throws {
        #expect(try ArchiveTimestampPattern(pattern).format(millis: Self.instant) == expected)
    }

    @Test("midnight is hour 0, clock hour 12 and 24-hour clock hour 24; 1970-01-01 was a Thursday")
    func clockHours() throws {
        #expect(try ArchiveTimestampPattern("H h k K a E").format(millis: 0) == "0 12 24 0 AM Thu")
    }

    @Test(
        "a pattern Java refuses, or a letter Rill does not format, is refused",
        arguments: ["yyyy'", "dd{", "ddd", "q", "zzzz", "Q", ""]
    )
    func badPatterns(pattern: String) {
        #expect(throws: ArchivePrefixError.self) { try ArchiveTimestampPattern(pattern) }
    }

    @Test("the guide's examples evaluate as the guide shows")
    func guideExamples() throws {
        let year = try ArchivePrefixes(
            prefix: "myPrefix/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/",
            errorOutputPrefix:
                "myErrorPrefix/!{timestamp:'year='yyyy'/month='MM'/day='dd'/hour='HH}/!{firehose:error-output-type}"
        )
        #expect(
            year.dataFolder(arrivalMillis: Self.instant, identity: "s/1")
                == "myPrefix/year=2018/month=08/day=27/hour=10/"
        )
        #expect(
            year.errorFolder(arrivalMillis: Self.instant, identity: "s/1")
                == "myErrorPrefix/year=2018/month=08/day=27/hour=10/processing-failed"
        )
        let failures = try ArchivePrefixes(errorOutputPrefix: "myFirehoseFailures/!{firehose:error-output-type}/")
        #expect(failures.dataFolder(arrivalMillis: Self.instant, identity: "s/1") == "2018/08/27/10/")
        #expect(
            failures.errorFolder(arrivalMillis: Self.instant, identity: "s/1")
                == "myFirehoseFailures/processing-failed/"
        )
    }

    @Test("a literal prefix and a prefix without a timestamp expression are followed by yyyy/MM/dd/HH/")
    func timeFoldersAppended() throws {
        let literal = try ArchivePrefixes(prefix: "raw/")
        #expect(literal.dataFolder(arrivalMillis: Self.instant, identity: "x") == "raw/2018/08/27/10/")
        #expect(literal.errorFolder(arrivalMillis: Self.instant, identity: "x") == "processing-failed/2018/08/27/10/")
        let random = try ArchivePrefixes(
            prefix: "rand=!{firehose:random-string}/",
            errorOutputPrefix: "errors/!{firehose:error-output-type}/"
        )
        let folder = random.dataFolder(arrivalMillis: Self.instant, identity: "x")
        #expect(folder.hasPrefix("rand=") && folder.hasSuffix("/2018/08/27/10/"))
        #expect(
            try ArchivePrefixes(errorOutputPrefix: "failed/").errorFolder(arrivalMillis: 0, identity: "x")
                == "failed/1970/01/01/00/"
        )
    }

    @Test("random strings are 11 characters, differ by instance and object, and repeat for the same object")
    func randomStrings() throws {
        let prefixes = try ArchivePrefixes(
            prefix: "!{firehose:random-string}/!{firehose:random-string}/!{timestamp:yyyy}/",
            errorOutputPrefix: "!{firehose:error-output-type}/!{firehose:random-string}/"
        )
        let folder = prefixes.dataFolder(arrivalMillis: Self.instant, identity: "shardId-000000000001/49650")
        let parts = folder.split(separator: "/").map(String.init)
        #expect(parts.count == 3 && parts[0].count == 11 && parts[1].count == 11 && parts[0] != parts[1])
        #expect(parts[2] == "2018")
        // The replay of the same object (same shard, same first record) gets the same folder.
        #expect(folder == prefixes.dataFolder(arrivalMillis: Self.instant, identity: "shardId-000000000001/49650"))
        #expect(folder != prefixes.dataFolder(arrivalMillis: Self.instant, identity: "shardId-000000000001/49651"))
        #expect(
            prefixes.errorFolder(arrivalMillis: Self.instant, identity: "shardId-000000000001/49650").count
                == "processing-failed/".count + 12
        )
    }

    @Test(
        "Firehose's semantic rules refuse a prefix pair with Firehose's message",
        arguments: [
            (
                "!{timestamp:yyyy}/", nil,
                "The supplied prefix(es) do not satisfy the following constraint: ErrorOutputPrefix cannot be null or empty when Prefix contains expressions"
            ),
            (
                "a/!{firehose:error-output-type}/", "e/!{firehose:error-output-type}",
                "The supplied prefix(es) do not satisfy the following constraint: Prefix can't contain !{firehose:error-output-type}"
            ),
            (
                "a/", "e/!{timestamp:yyyy}/",
                "The supplied prefix(es) do not satisfy the following constraint: ErrorOutputPrefix must contain at least one instance of !{firehose:error-output-type} when it contains expressions"
            ),
            (
                "a/!{foo:bar}/", "e/",
                "The supplied prefix(es) do not satisfy the following constraint: The sequence !{ can only appear in !{namespace:value} expressions"
            ),
            (
                "a/!{timestamp:yyyy", "e/",
                "The supplied prefix(es) do not satisfy the following constraint: The sequence !{ can only appear in !{namespace:value} expressions"
            ),
            (
                "a/!{firehose:uuid}/", "e/",
                "The supplied prefix(es) do not satisfy the following constraint: !{firehose:uuid} is not a valid expression; the firehose namespace takes random-string or error-output-type"
            ),
            (
                "a/!{partitionKeyFromQuery:customer}/", "e/!{firehose:error-output-type}",
                "!{partitionKeyFromQuery:…} needs Firehose's dynamic partitioning, which rill archive does not do"
            ),
            (
                String(repeating: "p", count: 500) + "/", nil,
                "The supplied prefix(es) do not satisfy the following constraint: Prefix can't be longer than 512 characters after it is evaluated"
            ),
        ] as [(String, String?, String)]
    )
    func semanticRules(prefix: String, errorOutputPrefix: String?, message: String) {
        do {
            _ = try ArchivePrefixes(prefix: prefix, errorOutputPrefix: errorOutputPrefix)
            Issue.record("\(prefix) was accepted")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test("an empty prefix is Firehose's unspecified one")
    func emptyIsUnspecified() throws {
        #expect(try ArchivePrefixes(prefix: "", errorOutputPrefix: "") == .firehoseDefault)
    }
}
