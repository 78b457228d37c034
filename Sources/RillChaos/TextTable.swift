import Foundation

/// Plain-text columns padded to their widest cell, for terminals and CI logs.
struct TextTable {
    enum Alignment {
        case left, right
    }

    var alignments: [Alignment]
    var rows: [[String]] = []

    init(_ alignments: [Alignment]) {
        self.alignments = alignments
    }

    mutating func add(_ cells: String...) {
        rows.append(cells)
    }

    func render() -> String {
        var widths = Array(repeating: 0, count: alignments.count)
        for row in rows {
            for (column, cell) in row.enumerated() where column < widths.count {
                widths[column] = max(widths[column], cell.count)
            }
        }
        return rows.map { row in
            row.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: max(0, widths[min(column, widths.count - 1)] - cell.count))
                return alignments[min(column, alignments.count - 1)] == .left ? cell + padding : padding + cell
            }
            .joined(separator: "  ")
            .replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        .joined(separator: "\n")
    }
}

/// A duration or instant in milliseconds, shown with one decimal.
struct Milliseconds: CustomStringConvertible {
    var value: Double
    init(_ value: Double) { self.value = value }
    var description: String { String(format: "%.1f", value) }
}
