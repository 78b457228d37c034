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

    /// A parsed CloudWatch call: what it asks, in which wire, and which metrics it reads.
    public struct Call: Sendable {
        enum Input: Sendable {
            case statistics(CloudWatchQuery.StatisticsRequest)
            case metricData(CloudWatchRequests.MetricDataRequest)
            case list(CloudWatchRequests.ListRequest)
        }

        public let wire: CloudWatchWire
        public let operation: String
        let input: Input

        /// The metrics the answer is built from: what every node is asked for.
        public var selection: MetricSelection {
            switch input {
            case .statistics(let request):
                .series(
                    [request.metric],
                    fromMillis: CloudWatchQuery.align(request.startMillis),
                    toMillis: request.endMillis
                )
            case .metricData(let request):
                .series(
                    request.queries.map(\.metric),
                    fromMillis: CloudWatchQuery.align(request.start),
                    toMillis: request.end
                )
            case .list(let request): .list(request.filter)
            }
        }
    }

    /// Reads and checks a call before any node is asked for its metrics.
    public static func parse(wire: CloudWatchWire, operation: String, body: [UInt8]) throws(CloudWatchError) -> Call {
        let input = try wire.decode(body)
        switch operation {
        case "GetMetricStatistics":
            return Call(wire: wire, operation: operation, input: .statistics(try CloudWatchRequests.statistics(input)))
        case "GetMetricData":
            return Call(wire: wire, operation: operation, input: .metricData(try CloudWatchRequests.metricData(input)))
        case "ListMetrics":
            return Call(wire: wire, operation: operation, input: .list(try CloudWatchRequests.list(input)))
        default: throw CloudWatchError.unknownOperation(operation)
        }
    }

    /// The reply to a parsed call from the merged store of the cluster's nodes.
    public static func answer(_ call: Call, store: MetricStore, requestID: String) -> Reply {
        do throws(CloudWatchError) {
            let output: CloudWatchOutput
            switch call.input {
            case .statistics(let request): output = try getMetricStatistics(request, store)
            case .metricData(let request): output = try getMetricData(request, store)
            case .list(let request): output = try listMetrics(request, store)
            }
            return success(output, wire: call.wire, operation: call.operation, requestID: requestID)
        } catch {
            return failure(error, wire: call.wire, requestID: requestID)
        }
    }

    /// Parse and answer in one step, from a store at hand.
    public static func handle(
        wire: CloudWatchWire,
        operation: String,
        body: [UInt8],
        store: MetricStore,
        requestID: String
    ) -> Reply {
        do throws(CloudWatchError) {
            return answer(try parse(wire: wire, operation: operation, body: body), store: store, requestID: requestID)
        } catch {
            return failure(error, wire: wire, requestID: requestID)
        }
    }

    static func getMetricStatistics(
        _ request: CloudWatchQuery.StatisticsRequest,
        _ store: MetricStore
    ) throws(CloudWatchError) -> CloudWatchOutput {
        let points = try CloudWatchQuery.statistics(request, store)
        return .structure([
            ("Label", .string(request.metric.name)),
            (
                "Datapoints",
                .list(
                    points.map { point in
                        .structure(
                            [("Timestamp", .timestamp(millis: point.timestampMillis))]
                                + point.values.map { ($0.0.name, .double($0.1)) }
                                + (point.extended.isEmpty
                                    ? []
                                    : [("ExtendedStatistics", .map(point.extended.map { ($0.0.name, .double($0.1)) }))])
                                + [("Unit", .string(point.unit))]
                        )
                    }
                )
            ),
        ])
    }

    static func getMetricData(
        _ request: CloudWatchRequests.MetricDataRequest,
        _ store: MetricStore
    ) throws(CloudWatchError) -> CloudWatchOutput {
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

    static func listMetrics(
        _ request: CloudWatchRequests.ListRequest,
        _ store: MetricStore
    ) throws(CloudWatchError) -> CloudWatchOutput {
        let metrics = CloudWatchQuery.list(request.filter, store)
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

    /// The error reply in the call's wire.
    public static func failure(_ error: CloudWatchError, wire: CloudWatchWire, requestID: String) -> Reply {
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
