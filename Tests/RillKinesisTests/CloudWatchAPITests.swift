import Foundation
import RillKinesis
import Testing

/// Requests as botocore 1.x serializes them for each protocol CloudWatch speaks (the same GetMetricStatistics
/// call: IncomingRecords of stream `lab`, 08:00–08:10 on 2026-12-06, Period 60, Sum and Average).
@Suite struct CloudWatchAPITests {
    static let cbor = hex(
        "a7694e616d6573706163656b4157532f4b696e657369736a4d65747269634e616d656f496e636f6d696e675265636f7264736a44696d656e73696f6e7381a2644e616d656a53747265616d4e616d656556616c7565636c616269537461727454696d65c11a6b15160067456e6454696d65c11a6b15185866506572696f64183c6a53746174697374696373826353756d6741766572616765"
    )
    static let json = Array(
        #"{"Namespace": "AWS/Kinesis", "MetricName": "IncomingRecords", "Dimensions": [{"Name": "StreamName", "Value": "lab"}], "StartTime": 1796544000, "EndTime": 1796544600, "Period": 60, "Statistics": ["Sum", "Average"]}"#
            .utf8
    )
    static let form = Array(
        "Action=GetMetricStatistics&Version=2010-08-01&Namespace=AWS%2FKinesis&MetricName=IncomingRecords&Dimensions.member.1.Name=StreamName&Dimensions.member.1.Value=lab&StartTime=2026-12-06T08%3A00%3A00Z&EndTime=2026-12-06T08%3A10%3A00Z&Period=60&Statistics.member.1=Sum&Statistics.member.2=Average"
            .utf8
    )
    static let start: Int64 = 1_796_544_000_000

    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    var store: MetricStore {
        var store = MetricStore()
        let lab = MetricID(name: "IncomingRecords", dimensions: [.init("StreamName", "lab")])
        // Two PutRecords in the first minute (10 and 30 records), one in the third; another stream's too.
        store.record(lab, 10, unit: "Count", atMillis: Self.start + 5_000)
        store.record(lab, 30, unit: "Count", atMillis: Self.start + 50_000)
        store.record(lab, 7, unit: "Count", atMillis: Self.start + 150_000)
        store.record(
            MetricID(name: "IncomingRecords", dimensions: [.init("StreamName", "other")]),
            99,
            unit: "Count",
            atMillis: Self.start
        )
        return store
    }

    @Test("each protocol's GetMetricStatistics is recognized and answers the same datapoints")
    func threeProtocols() throws {
        let calls: [(String, String?, String?, [UInt8], CloudWatchWire)] = [
            (
                "/service/GraniteServiceVersion20100801/operation/GetMetricStatistics", nil, "application/cbor",
                Self.cbor, .rpcV2CBOR
            ),
            (
                "/", "GraniteServiceVersion20100801.GetMetricStatistics", "application/x-amz-json-1.0", Self.json,
                .json10
            ),
            ("/", nil, "application/x-www-form-urlencoded; charset=utf-8", Self.form, .query),
        ]
        for (path, target, contentType, body, expected) in calls {
            let recognized = try #require(
                CloudWatchWire.recognize(path: path, target: target, contentType: contentType, body: body)
            )
            #expect(recognized.wire == expected)
            #expect(recognized.operation == "GetMetricStatistics")
            let reply = CloudWatchAPI.handle(
                wire: recognized.wire,
                operation: recognized.operation,
                body: body,
                store: store,
                requestID: "r1"
            )
            #expect(reply.status == 200, "\(expected): \(String(decoding: reply.body, as: UTF8.self))")
            if let dump = ProcessInfo.processInfo.environment["RILL_CLOUDWATCH_DUMP"] {
                try Data(reply.body).write(to: URL(fileURLWithPath: "\(dump)/\(expected).out"))
            }
        }
        // Kinesis calls are left alone.
        #expect(
            CloudWatchWire.recognize(
                path: "/",
                target: "Kinesis_20131202.ListStreams",
                contentType: "application/x-amz-json-1.1",
                body: []
            ) == nil
        )
    }

    @Test("statistics per period: sums and averages over minute buckets, empty periods left out, other streams apart")
    func datapoints() throws {
        let reply = CloudWatchAPI.handle(
            wire: .json10,
            operation: "GetMetricStatistics",
            body: Self.json,
            store: store,
            requestID: "r"
        )
        let text = String(decoding: reply.body, as: UTF8.self)
        #expect(
            text
                == #"{"Label":"IncomingRecords","Datapoints":[{"Timestamp":1796544000.0,"Sum":40.0,"Average":20.0,"Unit":"Count"},{"Timestamp":1796544120.0,"Sum":7.0,"Average":7.0,"Unit":"Count"}]}"#
        )
        let wide = Array(
            String(decoding: Self.json, as: UTF8.self).replacingOccurrences(
                of: "\"Period\": 60",
                with: "\"Period\": 300"
            ).utf8
        )
        let merged = String(
            decoding: CloudWatchAPI.handle(
                wire: .json10,
                operation: "GetMetricStatistics",
                body: wide,
                store: store,
                requestID: "r"
            ).body,
            as: UTF8.self
        )
        #expect(merged.contains(#""Sum":47.0"#))
    }

    @Test("errors: a bad period, a missing parameter and an unknown action carry the query code in x-amzn-query-error")
    func errors() {
        let odd = Array(
            String(decoding: Self.json, as: UTF8.self).replacingOccurrences(
                of: "\"Period\": 60",
                with: "\"Period\": 45"
            ).utf8
        )
        let reply = CloudWatchAPI.handle(
            wire: .json10,
            operation: "GetMetricStatistics",
            body: odd,
            store: store,
            requestID: "r"
        )
        #expect(reply.status == 400)
        #expect(reply.headers.contains { $0 == ("x-amzn-query-error", "InvalidParameterValue;Sender") })
        let missing = CloudWatchAPI.handle(
            wire: .json10,
            operation: "GetMetricStatistics",
            body: Array("{}".utf8),
            store: store,
            requestID: "r"
        )
        #expect(missing.headers.contains { $0.0 == "x-amzn-query-error" && $0.1.hasPrefix("MissingParameter;") })
        let xml = String(
            decoding: CloudWatchAPI.handle(
                wire: .query,
                operation: "PutMetricAlarm",
                body: [],
                store: store,
                requestID: "r"
            ).body,
            as: UTF8.self
        )
        #expect(xml.contains("<Code>InvalidAction</Code>"))
        for garbage in [[0xff], [0xbf, 0x61], Array(repeating: 0x81, count: 200)] as [[UInt8]] {
            #expect(
                CloudWatchAPI.handle(
                    wire: .rpcV2CBOR,
                    operation: "ListMetrics",
                    body: garbage,
                    store: store,
                    requestID: "r"
                ).status == 400
            )
        }
    }

    @Test("ListMetrics filters by name and dimension; GetMetricData returns newest first by default")
    func listAndData() {
        let list = String(
            decoding: CloudWatchAPI.handle(
                wire: .json10,
                operation: "ListMetrics",
                body: Array(#"{"Namespace":"AWS/Kinesis","Dimensions":[{"Name":"StreamName","Value":"lab"}]}"#.utf8),
                store: store,
                requestID: "r"
            ).body,
            as: UTF8.self
        )
        #expect(
            list
                == #"{"Metrics":[{"Namespace":"AWS/Kinesis","MetricName":"IncomingRecords","Dimensions":[{"Name":"StreamName","Value":"lab"}]}]}"#
        )
        let query =
            #"{"MetricDataQueries":[{"Id":"m1","MetricStat":{"Metric":{"Namespace":"AWS/Kinesis","MetricName":"IncomingRecords","Dimensions":[{"Name":"StreamName","Value":"lab"}]},"Period":60,"Stat":"Sum"}}],"StartTime":1796544000,"EndTime":1796544600}"#
        let data = String(
            decoding: CloudWatchAPI.handle(
                wire: .json10,
                operation: "GetMetricData",
                body: Array(query.utf8),
                store: store,
                requestID: "r"
            ).body,
            as: UTF8.self
        )
        #expect(
            data
                == #"{"MetricDataResults":[{"Id":"m1","Label":"IncomingRecords","Timestamps":[1796544120.0,1796544000.0],"Values":[7.0,40.0],"StatusCode":"Complete"}],"Messages":[]}"#
        )
    }

    @Test("ISO 8601 timestamps parse with fractions and offsets; buckets merge across nodes and expire")
    func timeAndMerging() {
        #expect(CivilTime.parseISO8601("2026-12-06T08:00:00Z") == Self.start)
        #expect(CivilTime.parseISO8601("2026-12-06T08:00:00.250000Z") == Self.start + 250)
        #expect(CivilTime.parseISO8601("2026-12-06T09:00:00+01:00") == Self.start)
        #expect(CivilTime.parseISO8601("2026-13-06T08:00:00Z") == nil)
        #expect(CivilTime.iso8601(Self.start + 5) == "2026-12-06T08:00:00.005Z")
        var a = store
        var b = store
        a.merge(b)
        let lab = MetricID(name: "IncomingRecords", dimensions: [.init("StreamName", "lab")])
        #expect(a.series[lab]?[Self.start] == MetricBucket(sum: 80, sampleCount: 4, minimum: 10, maximum: 30))
        b.trim(atMillis: Self.start + 5 * 60 * 60_000)
        #expect(b.series.isEmpty)
    }
}
