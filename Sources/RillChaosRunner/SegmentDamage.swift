import Foundation
import RillModel

/// The disk nemesis's damage to a stopped node: one bit flipped in, or the tail cut off, the newest segment
/// of one of its shard logs (`shards/<stream>/<shard>/<20 digits>.log`).
///
/// Only shard logs: a damaged metadata log stops the node by design (the operator must decide), and the
/// newest segment because recovery scans it frame by frame, where a CRC catches the damage. An older segment
/// with a valid index file is trusted at open and checked only when read (see docs/chaos.md).
enum SegmentDamage {
    /// Damages one segment under `dataDirectory` as `salt` picks; returns what was done, for the history,
    /// or nil when the node holds no shard segment (it was wiped and has not caught up yet).
    static func apply(_ damage: FaultPlan.DiskDamage, salt: UInt64, dataDirectory: URL) throws(ChaosError) -> String? {
        var generator = SplitMix64(seed: salt)
        let segments = newestSegments(under: dataDirectory.appendingPathComponent("shards"))
        guard !segments.isEmpty else { return nil }
        let segment = segments[Int.random(in: 0..<segments.count, using: &generator)]
        let relative = String(segment.path.dropFirst(dataDirectory.path.count + 1))
        do {
            let handle = try FileHandle(forUpdating: segment)
            defer { try? handle.close() }
            let size = try handle.seekToEnd()
            guard size > 0 else { return "\(relative) is empty; left alone" }
            switch damage {
            case .bitflip:
                let offset = UInt64.random(in: 0..<size, using: &generator)
                let bit = Int.random(in: 0..<8, using: &generator)
                try handle.seek(toOffset: offset)
                guard let byte = try handle.read(upToCount: 1)?.first else { return "\(relative): nothing read" }
                try handle.seek(toOffset: offset)
                try handle.write(contentsOf: [byte ^ (1 << bit)])
                return "bit \(bit) of byte \(offset) of \(size) flipped in \(relative)"
            case .truncate:
                // Never into the 20-byte header, which would make the damage a plain empty segment.
                let header: UInt64 = 20
                guard size > header else { return "\(relative) holds only its header; left alone" }
                let cut = UInt64.random(in: 1...min(size - header, 256 << 10), using: &generator)
                try handle.truncate(atOffset: size - cut)
                return "last \(cut) of \(size) bytes cut off \(relative)"
            }
        } catch {
            throw .harness("cannot damage \(segment.path): \(error)")
        }
    }

    /// The last segment of every shard log under `shards`, in a stable order.
    static func newestSegments(under shards: URL) -> [URL] {
        let files = FileManager.default
        var found: [URL] = []
        let streams = (try? files.contentsOfDirectory(atPath: shards.path)) ?? []
        for stream in streams.sorted() {
            let streamDirectory = shards.appendingPathComponent(stream)
            for shard in ((try? files.contentsOfDirectory(atPath: streamDirectory.path)) ?? []).sorted() {
                let shardDirectory = streamDirectory.appendingPathComponent(shard)
                let names = ((try? files.contentsOfDirectory(atPath: shardDirectory.path)) ?? []).filter(isSegmentName)
                if let newest = names.max() { found.append(shardDirectory.appendingPathComponent(newest)) }
            }
        }
        return found
    }

    static func isSegmentName(_ name: String) -> Bool {
        name.utf8.count == 24 && name.hasSuffix(".log") && name.utf8.prefix(20).allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}
