/// Typed CloudWatch inputs from the request tree, validated as the API model and CloudWatch do.
enum CloudWatchRequests {
    static func statistics(_ input: JSONObject) throws(CloudWatchError) -> CloudWatchQuery.StatisticsRequest {
        let target = try metric(input, required: true)
        let statistics = try strings(input, "Statistics")
        let extended = try strings(input, "ExtendedStatistics")
        // As CloudWatch: one kind or the other, never both, never neither.
        guard statistics.isEmpty != extended.isEmpty else {
            throw .combination("Must specify either Statistics or ExtendedStatistics, but not both.")
        }
        guard statistics.count <= 5 else {
            throw .invalidValue("The collection Statistics must not have a size greater than 5.")
        }
        guard extended.count <= 10 else {
            throw .invalidValue("The collection ExtendedStatistics must not have a size greater than 10.")
        }
        var parsed: [CloudWatchQuery.Statistic] = []
        for name in statistics {
            guard let statistic = CloudWatchQuery.Statistic(name: name),
                CloudWatchQuery.Statistic.basic.contains(statistic)
            else {
                throw .invalidValue(
                    "The parameter Statistics.member.\(parsed.count + 1) must be a value in the set [ Maximum, Sum, SampleCount, Average, Minimum ]."
                )
            }
            parsed.append(statistic)
        }
        var percentiles: [CloudWatchQuery.Statistic] = []
        for name in extended {
            guard let statistic = CloudWatchQuery.Statistic(name: name),
                !CloudWatchQuery.Statistic.basic.contains(statistic)
            else {
                throw .invalidValue(
                    "The value \(name) for parameter ExtendedStatistics.member.\(percentiles.count + 1) is invalid: Rill keeps percentiles, p0 to p100 (such as p99 or p99.9)."
                )
            }
            percentiles.append(statistic)
        }
        return CloudWatchQuery.StatisticsRequest(
            metric: target,
            startMillis: try timestamp(input, "StartTime"),
            endMillis: try timestamp(input, "EndTime"),
            period: try integer(input, "Period"),
            statistics: parsed,
            extendedStatistics: percentiles,
            unit: try optionalString(input, "Unit")
        )
    }

    struct MetricDataRequest: Sendable {
        var queries: [CloudWatchQuery.DataQuery]
        var start: Int64
        var end: Int64
        var newestFirst: Bool
    }

    struct ListRequest: Sendable {
        var filter: MetricFilter
        var offset: Int
    }

    static func metricData(_ input: JSONObject) throws(CloudWatchError) -> MetricDataRequest {
        guard case .array(let items)? = input["MetricDataQueries"] else { throw .missing("MetricDataQueries") }
        var queries: [CloudWatchQuery.DataQuery] = []
        for item in items {
            guard case .object(let query) = item else {
                throw .serialization("Each of MetricDataQueries must be a structure.")
            }
            guard let id = try optionalString(query, "Id") else { throw .missing("MetricDataQueries.member.Id") }
            if query["Expression"] != nil {
                throw .invalidValue("Metric math (Expression) is not supported by Rill; use MetricStat.")
            }
            guard case .object(let stat)? = query["MetricStat"] else {
                throw .missing("MetricDataQueries.member.MetricStat")
            }
            guard case .object(let metricObject)? = stat["Metric"] else {
                throw .missing("MetricDataQueries.member.MetricStat.Metric")
            }
            guard let statName = try optionalString(stat, "Stat") else {
                throw .missing("MetricDataQueries.member.MetricStat.Stat")
            }
            guard let statistic = CloudWatchQuery.Statistic(name: statName) else {
                throw .invalidValue(
                    "The statistic \(statName) is not supported by Rill: it keeps SampleCount, Average, Sum, Minimum, Maximum and percentiles (p0 to p100); trimmed means and other extended statistics are not kept."
                )
            }
            var returnData = true
            if let flag = query["ReturnData"] {
                switch flag {
                case .bool(let value): returnData = value
                case .string(let text): returnData = text.lowercased() != "false"
                default: throw .serialization("ReturnData must be a boolean.")
                }
            }
            queries.append(
                CloudWatchQuery.DataQuery(
                    id: id,
                    label: try optionalString(query, "Label"),
                    metric: try metric(metricObject, required: true),
                    period: try integer(stat, "Period"),
                    statistic: statistic,
                    unit: try optionalString(stat, "Unit"),
                    returnData: returnData
                )
            )
        }
        let scan = try optionalString(input, "ScanBy") ?? "TimestampDescending"
        guard scan == "TimestampDescending" || scan == "TimestampAscending" else {
            throw .invalidValue("The parameter ScanBy must be TimestampDescending or TimestampAscending.")
        }
        return MetricDataRequest(
            queries: queries,
            start: try timestamp(input, "StartTime"),
            end: try timestamp(input, "EndTime"),
            newestFirst: scan == "TimestampDescending"
        )
    }

    static func list(_ input: JSONObject) throws(CloudWatchError) -> ListRequest {
        var filters: [MetricFilter.Dimension] = []
        if let value = input["Dimensions"] {
            guard case .array(let items) = value, items.count <= 10 else {
                throw .invalidValue("Dimensions must be a list of at most 10 filters.")
            }
            for item in items {
                guard case .object(let filter) = item, let name = try optionalString(filter, "Name") else {
                    throw .missing("Dimensions.member.Name")
                }
                filters.append(MetricFilter.Dimension(name: name, value: try optionalString(filter, "Value")))
            }
        }
        var offset = 0
        if let token = try optionalString(input, "NextToken") {
            guard let parsed = Int(token), parsed > 0 else { throw .invalidNextToken() }
            offset = parsed
        }
        return ListRequest(
            filter: MetricFilter(
                namespace: try optionalString(input, "Namespace"),
                name: try optionalString(input, "MetricName"),
                dimensions: filters
            ),
            offset: offset
        )
    }

    static func metric(_ input: JSONObject, required: Bool) throws(CloudWatchError) -> MetricID {
        guard let namespace = try optionalString(input, "Namespace") else { throw .missing("Namespace") }
        guard let name = try optionalString(input, "MetricName") else { throw .missing("MetricName") }
        var dimensions: [MetricID.Dimension] = []
        if let value = input["Dimensions"] {
            guard case .array(let items) = value, items.count <= 30 else {
                throw .invalidValue("Dimensions must be a list of at most 30.")
            }
            for item in items {
                guard case .object(let dimension) = item, let key = try optionalString(dimension, "Name"),
                    let text = try optionalString(dimension, "Value")
                else { throw .missing("Dimensions.member.Name and Dimensions.member.Value") }
                dimensions.append(MetricID.Dimension(key, text))
            }
        }
        return MetricID(namespace: namespace, name: name, dimensions: dimensions)
    }

    static func optionalString(_ input: JSONObject, _ key: String) throws(CloudWatchError) -> String? {
        guard let value = input[key] else { return nil }
        guard case .string(let text) = value else { throw .serialization("\(key) must be a string.") }
        return text
    }

    static func strings(_ input: JSONObject, _ key: String) throws(CloudWatchError) -> [String] {
        guard let value = input[key] else { return [] }
        guard case .array(let items) = value else { throw .serialization("\(key) must be a list of strings.") }
        var out: [String] = []
        for item in items {
            guard case .string(let text) = item else { throw .serialization("\(key) must be a list of strings.") }
            out.append(text)
        }
        return out
    }

    static func integer(_ input: JSONObject, _ key: String) throws(CloudWatchError) -> Int64 {
        switch input[key] {
        case nil: throw .missing(key)
        case .number(let text)?, .string(let text)?:
            guard
                let value = Int64(text)
                    ?? Double(text).flatMap({ $0 == $0.rounded() && abs($0) < 1e15 ? Int64($0) : nil })
            else {
                throw .invalidValue("The parameter \(key) must be an integer.")
            }
            return value
        default: throw .serialization("\(key) must be a number.")
        }
    }

    /// Epoch seconds (JSON, CBOR) or ISO 8601 text (query, and JSON clients that send strings) to milliseconds.
    static func timestamp(_ input: JSONObject, _ key: String) throws(CloudWatchError) -> Int64 {
        switch input[key] {
        case nil: throw .missing(key)
        case .number(let text)?:
            guard let seconds = Double(text), seconds.isFinite, abs(seconds) < 1e11 else {
                throw .invalidValue("The parameter \(key) is not a valid timestamp.")
            }
            return Int64((seconds * 1000).rounded())
        case .string(let text)?:
            if let millis = CivilTime.parseISO8601(text) { return millis }
            if let seconds = Double(text), seconds.isFinite, abs(seconds) < 1e11 {
                return Int64((seconds * 1000).rounded())
            }
            throw .invalidValue("The parameter \(key) must be an ISO 8601 timestamp or epoch seconds.")
        default: throw .serialization("\(key) must be a timestamp.")
        }
    }
}
