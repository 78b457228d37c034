/// Which paths one listener answers. Without `--admin` the API address answers all of them; with it the
/// operator endpoints move to the admin address, and the API address keeps what clients, load balancers
/// and `rill status` find there (docs/configuration.md, `--admin`).
public struct HTTPEndpoints: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Kinesis calls (POST with `X-Amz-Target`), SubscribeToShard streams and CORS preflights.
    public static let kinesis = HTTPEndpoints(rawValue: 1 << 0)
    /// `GET /health` and `GET /ready`: what probes and load balancers ask the address they check.
    public static let probes = HTTPEndpoints(rawValue: 1 << 1)
    /// `GET /admin/status`: members gossip only their API address, so `rill status` asks each one there.
    public static let status = HTTPEndpoints(rawValue: 1 << 2)
    /// `GET /metrics`, `GET /admin/checksums` (reads every record) and `/admin/faults`.
    public static let operations = HTTPEndpoints(rawValue: 1 << 3)

    /// `GET /console`: the web console, which reads `/admin/status` of every member (docs/console.md).
    public static let console = HTTPEndpoints(rawValue: 1 << 4)

    /// The API address without `--admin`.
    public static let all: HTTPEndpoints = [.kinesis, .probes, .status, .operations, .console]
    /// The API address when `--admin` is given.
    public static let apiBesideAdmin: HTTPEndpoints = [.kinesis, .probes, .status]
    /// The `--admin` address.
    public static let admin: HTTPEndpoints = [.probes, .status, .operations, .console]
}
