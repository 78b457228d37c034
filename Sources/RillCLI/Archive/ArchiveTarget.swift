/// `--to`, parsed once: a folder, or `s3://BUCKET[/PATH]`, an S3 bucket with an optional key path before every
/// object (Firehose writes to a bucket's root; the path lets several archives share one bucket).
enum ArchiveTarget: Equatable {
    case folder(String)
    /// `keyPrefix` is empty or ends in `/`.
    case bucket(String, keyPrefix: String)

    static let scheme = "s3://"

    init?(_ text: String) {
        guard text.hasPrefix(Self.scheme) else {
            guard !text.isEmpty, !text.contains("://") else { return nil }
            self = .folder(text)
            return
        }
        let rest = text.dropFirst(Self.scheme.count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let bucket = String(rest[..<slash])
        guard Self.isBucketName(bucket) else { return nil }
        var path = slash < rest.endIndex ? String(rest[rest.index(after: slash)...]) : ""
        guard !path.hasPrefix("/") else { return nil }
        if !path.isEmpty && !path.hasSuffix("/") { path += "/" }
        self = .bucket(bucket, keyPrefix: path)
    }

    /// S3's bucket naming rules: 3–63 characters of lower-case letters, digits, dots and hyphens, starting and
    /// ending with a letter or digit.
    static func isBucketName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (3...63).contains(bytes.count) else { return false }
        func alphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        guard let first = bytes.first, let last = bytes.last, alphanumeric(first), alphanumeric(last) else {
            return false
        }
        return bytes.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }
}
