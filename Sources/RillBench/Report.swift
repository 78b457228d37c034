import Histogram
import RillKinesis

/// Renders phase results as text for people and, with `--json`, as one JSON object for scripts.
///
/// Text, one block per phase:
///
///     put-records  1,234,500 records in 10.01 s  (8 connections)
///       throughput  123,327 records/s  126.3 MB/s  246.7 requests/s
///       latency ms  p50 31.2  p90 40.1  p99 52.3  p99.9 60.0  max 61.2  (per request)
///       errors      none
///
/// MB are 10⁶ bytes of record data (not wire bytes). Latency is per request, from the write (closed
/// loop) or from the instant the request was due (open loop, `--rate`), to the complete response.
struct Report {
    var settings: BenchSettings
    var stream: String
    var phases: [PhaseResult]
    /// Why the run stopped before its last phase, if it did.
    var failure: String? = nil
    /// How the measured stream was replicated while it ran.
    var replication = Replication.unknown

    /// The percentiles reported, with their labels.
    static let percentiles: [(label: String, key: StaticString, value: Double)] = [
        ("p50", "p50", 50), ("p90", "p90", 90), ("p99", "p99", 99), ("p99.9", "p999", 99.9),
    ]

    func text() -> String {
        var lines: [String] = []
        lines.append(
            "rill bench  \(settings.endpoints.map(\.description).joined(separator: ","))  stream \(stream)  \(settings.recordBytes)-byte records  "
                + "\(settings.producers) producers  batch \(settings.batch)  \(settings.wire == .cbor ? "CBOR" : "JSON")"
                + "  \(settings.endpoint.http2 ? "HTTP/2" : "HTTP/1.1")"
        )
        lines.append("replication  \(replication.summary)")
        for phase in phases {
            let tally = phase.tally
            lines.append("")
            lines.append(
                "\(phase.name)  \(Format.grouped(tally.records)) records in \(Format.fixed(phase.seconds, 2)) s  "
                    + "(\(phase.connections) connections\(phase.targetRate.map { ", open loop at \(Format.grouped(Int($0))) records/s" } ?? ""))"
            )
            lines.append(
                "  throughput  \(Format.grouped(Int(perSecond(tally.records, phase)))) records/s  "
                    + "\(Format.fixed(perSecond(tally.bytes, phase) / 1e6, 1)) MB/s  "
                    + "\(Format.fixed(perSecond(tally.requests, phase), 1)) requests/s"
            )
            let basis = phase.targetRate == nil ? "from send" : "from intended send, corrected for coordinated omission"
            lines.append("  latency ms  \(latencyLine(tally.latency))  (\(basis))")
            if phase.targetRate != nil {
                lines.append("  service ms  \(latencyLine(tally.serviceTime))  (from actual write)")
            }
            let errors = tally.errors.sorted { $0.value > $1.value }.map { "\($0.key) \(Format.grouped($0.value))" }
            lines.append("  errors      \(errors.isEmpty ? "none" : errors.joined(separator: ", "))")
        }
        if let failure {
            lines.append("")
            lines.append("FAILED: \(failure)")
        }
        return lines.joined(separator: "\n")
    }

    /// One object: settings, then `phases`, each with rates, `errors` by code and `latencyMs` percentiles.
    func json() -> String {
        var writer = JSONWriter(capacity: 2048)
        writer.beginObject()
        writer.key("endpoint")
        writer.string(settings.endpoints.map(\.description).joined(separator: ","))
        writer.key("stream")
        writer.string(stream)
        writer.key("producers")
        writer.int(settings.producers)
        writer.key("batch")
        writer.int(settings.batch)
        writer.key("protocol")
        writer.string(settings.wire == .cbor ? "cbor" : "json")
        writer.key("http")
        writer.string(settings.endpoint.http2 ? "2" : "1.1")
        writer.key("recordBytes")
        writer.int(settings.recordBytes)
        writer.key("eventLoopThreads")
        writer.int(settings.eventLoopThreads)
        writer.key("replication")
        writer.beginObject()
        writer.key("replicated")
        writer.bool(replication.replicated)
        writer.key("summary")
        writer.string(replication.summary)
        writer.endObject()
        writer.key("phases")
        writer.beginArray()
        for phase in phases {
            let tally = phase.tally
            writer.beginObject()
            writer.key("name")
            writer.string(phase.name)
            writer.key("connections")
            writer.int(phase.connections)
            if let rate = phase.targetRate {
                writer.key("targetRecordsPerSecond")
                writer.raw(Array(Format.fixed(rate, 1).utf8))
            }
            writer.key("seconds")
            writer.raw(Array(Format.fixed(phase.seconds, 3).utf8))
            writer.key("records")
            writer.int(tally.records)
            writer.key("bytes")
            writer.int(tally.bytes)
            writer.key("requests")
            writer.int(tally.requests)
            writer.key("recordsPerSecond")
            writer.raw(Array(Format.fixed(perSecond(tally.records, phase), 1).utf8))
            writer.key("megabytesPerSecond")
            writer.raw(Array(Format.fixed(perSecond(tally.bytes, phase) / 1e6, 3).utf8))
            writer.key("requestsPerSecond")
            writer.raw(Array(Format.fixed(perSecond(tally.requests, phase), 1).utf8))
            writer.key("errors")
            writer.raw(Self.errorsObject(tally.errors))
            writer.key("latencyMs")
            latencyObject(tally.latency, into: &writer)
            if phase.targetRate != nil {
                writer.key("serviceTimeMs")
                latencyObject(tally.serviceTime, into: &writer)
            }
            writer.endObject()
        }
        writer.endArray()
        if let failure {
            writer.key("failure")
            writer.string(failure)
        }
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// `{"<code>":<count>,…}`; built by hand because `JSONWriter.key` takes only static names.
    private static func errorsObject(_ errors: [String: Int]) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        for (i, entry) in errors.sorted(by: { $0.key < $1.key }).enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            var name = JSONWriter()
            name.string(entry.key)
            bytes += name.bytes
            bytes.append(UInt8(ascii: ":"))
            bytes += Array(String(entry.value).utf8)
        }
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    private func perSecond(_ count: Int, _ phase: PhaseResult) -> Double {
        phase.seconds > 0 ? Double(count) / phase.seconds : 0
    }

    private func latencyLine(_ histogram: Histogram<UInt64>) -> String {
        guard histogram.totalCount > 0 else { return "no samples" }
        let parts = Self.percentiles.map { "\($0.label) \(milliseconds(histogram.valueAtPercentile($0.value)))" }
        return (parts + ["max \(milliseconds(histogram.max))"]).joined(separator: "  ")
    }

    private func latencyObject(_ histogram: Histogram<UInt64>, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("samples")
        writer.int(histogram.totalCount)
        if histogram.totalCount > 0 {
            for percentile in Self.percentiles {
                writer.key(percentile.key)
                writer.raw(Array(milliseconds(histogram.valueAtPercentile(percentile.value)).utf8))
            }
            writer.key("max")
            writer.raw(Array(milliseconds(histogram.max).utf8))
            writer.key("mean")
            writer.raw(Array(Format.fixed(histogram.mean / 1e6, 3).utf8))
        }
        writer.endObject()
    }

    /// Nanoseconds as milliseconds with microsecond digits.
    private func milliseconds(_ nanoseconds: UInt64) -> String {
        Format.fixed(Double(nanoseconds) / 1e6, 3)
    }
}

/// Number formatting without Foundation.
enum Format {
    /// `value` with `digits` decimals, rounded half away from zero.
    static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return "0" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e18 else { return String(value) }
        let whole = Int(scaled) / Int(scale)
        let fraction = Int(scaled) % Int(scale)
        var text = (value < 0 && scaled > 0 ? "-" : "") + String(whole)
        if digits > 0 {
            let digitsText = String(fraction)
            text += "." + String(repeating: "0", count: digits - digitsText.count) + digitsText
        }
        return text
    }

    /// An integer with thousands separators: `1,234,567`.
    static func grouped(_ value: Int) -> String {
        let digits = Array(String(value.magnitude))
        var text = ""
        for (i, digit) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { text.append(",") }
            text.append(digit)
        }
        return value < 0 ? "-" + text : text
    }
}
