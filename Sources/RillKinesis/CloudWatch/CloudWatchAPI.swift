/// CloudWatch's metric reads on the Kinesis port, for the `AWS/Kinesis` namespace: a request's bytes in, a
/// reply's status, headers and bytes out. Pure: the caller passes the merged `MetricStore` and the time.
public enum CloudWatchAPI {
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]
    }

    /// ListMetrics pages hold at most this many metrics, as on AWS.
    static let listPageSize = 500

    public static func handle(
        wire: CloudWatchWire,
        operation: String,
        body: [UInt8],
        store: MetricStore,
        requestID: String
    ) -> Reply {
        do throws(CloudWatchError) {
            let input = try wire.decode(body)
            let output: CloudWatchOutput
            switch operation {
            case "GetMetricStatistics": output = try getMetricStatistics(input, store)
            case "GetMetricData": output = try getMetricData(input, store)
            case "ListMetrics": output = try listMetrics(input, store)
            default: throw CloudWatchError.unknownOperation(operation)
            }
            return success(output, wire: wire, operation: operation, requestID: requestID)
        } catch {
            return failure(error, wire: wire, requestID: requestID)
        }
    }

    static func getMetricStatistics(
        _ input: JSONObject,
        _ store: MetricStore
    ) throws(CloudWatchError) -> CloudWatchOutput {
        let request = try CloudWatchRequests.statistics(input)
        let points = try CloudWatchQuery.statistics(request, store)
        return .structure([
            ("Label", .string(request.metric.name)),
            (
                "Datapoints",
                .list(
                    points.map { point in
                        .structure(
                            [("Timestamp", .timestamp(millis: point.timestampMillis))]
                                + point.values.map { ($0.0.rawValue, .double($0.1)) }
                                + [("Unit", .string(point.unit))]
                        )
                    }
                )
            ),
        ])
    }

    static func getMetricData(_ input: JSONObject, _ store: MetricStore) throws(CloudWatchError) -> CloudWatchOutput {
        let request = try CloudWatchRequests.metricData(input)
        let results = try CloudWatchQuery.metricData(
            request.queries,
            startMillis: request.start,
            endMillis: request.end,
            newestFirst: request.newestFirst,
            store
        )
        return .structure([
            (
                "MetricDataResults",
                .list(
                    results.map { result in
                        .structure([
                            ("Id", .string(result.id)), ("Label", .string(result.label)),
                            ("Timestamps", .list(result.timestampsMillis.map { .timestamp(millis: $0) })),
                            ("Values", .list(result.values.map { .double($0) })), ("StatusCode", .string("Complete")),
                        ])
                    }
                )
            ),
            ("Messages", .list([])),
        ])
    }

    static func listMetrics(_ input: JSONObject, _ store: MetricStore) throws(CloudWatchError) -> CloudWatchOutput {
        let request = try CloudWatchRequests.list(input)
        let metrics = CloudWatchQuery.list(
            namespace: request.namespace,
            name: request.name,
            dimensions: request.dimensions,
            store
        )
        guard request.offset <= metrics.count else { throw .invalidNextToken() }
        let page = metrics[request.offset..<min(metrics.count, request.offset + listPageSize)]
        var members: [(String, CloudWatchOutput)] = [
            (
                "Metrics",
                .list(
                    page.map { metric in
                        .structure([
                            ("Namespace", .string(metric.namespace)), ("MetricName", .string(metric.name)),
                            (
                                "Dimensions",
                                .list(
                                    metric.dimensions.map {
                                        .structure([("Name", .string($0.name)), ("Value", .string($0.value))])
                                    }
                                )
                            ),
                        ])
                    }
                )
            )
        ]
        if page.endIndex < metrics.count { members.append(("NextToken", .string(String(page.endIndex)))) }
        return .structure(members)
    }

    static func success(_ output: CloudWatchOutput, wire: CloudWatchWire, operation: String, requestID: String) -> Reply
    {
        switch wire {
        case .rpcV2CBOR:
            return Reply(
                status: 200,
                headers: [
                    ("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
                    ("x-amzn-RequestId", requestID),
                ],
                body: output.cbor()
            )
        case .json10:
            return Reply(
                status: 200,
                headers: [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", requestID)],
                body: output.json()
            )
        case .query:
            return Reply(
                status: 200,
                headers: [("Content-Type", "text/xml"), ("x-amzn-RequestId", requestID)],
                body: output.xml(operation: operation, requestID: requestID)
            )
        }
    }

    static func failure(_ error: CloudWatchError, wire: CloudWatchWire, requestID: String) -> Reply {
        // awsQueryCompatible: JSON and CBOR clients read the query error code from this header.
        let queryError = ("x-amzn-query-error", "\(error.code);\(error.fault)")
        let body = CloudWatchOutput.structure([
            ("__type", .string("com.amazonaws.cloudwatch#\(error.shape)")), ("message", .string(error.message)),
        ])
        switch wire {
        case .rpcV2CBOR:
            return Reply(
                status: error.status,
                headers: [
                    ("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
                    ("x-amzn-RequestId", requestID), queryError,
                ],
                body: body.cbor()
            )
        case .json10:
            return Reply(
                status: error.status,
                headers: [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", requestID), queryError],
                body: body.json()
            )
        case .query:
            let xml =
                "<ErrorResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><Error><Type>\(error.fault)</Type><Code>\(error.code)</Code>"
                + "<Message>\(CloudWatchOutput.escaped(error.message))</Message></Error><RequestId>\(requestID)</RequestId></ErrorResponse>"
            return Reply(
                status: error.status,
                headers: [("Content-Type", "text/xml"), ("x-amzn-RequestId", requestID)],
                body: Array(xml.utf8)
            )
        }
    }
}
