// MARK: - One record, one position

extension Checker {
    /// A position names one record and a record has one position, except that a server duplicate has as many
    /// positions as the final read shows copies (reported as a duplicate, not a conflict).
    ///
    /// Acknowledgements count as observations too, since two acks at one position cannot both be true;
    /// `acknowledgements` need only be those no read confirmed.
    func checkSequenceConflicts(
        _ index: HistoryIndex,
        acknowledgements: [(id: String, position: RecordPosition)]
    ) -> Finding<Anomaly.SequenceConflict> {
        var finding = Finding<Anomaly.SequenceConflict>()
        for id in index.readIDs {
            guard let sightings = index.sightings[id], sightings.positions.count > 1 else { continue }
            if !sightings.positions.elements.allSatisfy(sightings.finalPositions.contains) {
                finding.record(
                    .idAtSeveralPositions(id: id, positions: sightings.positions.elements),
                    limit: exampleLimit
                )
            }
        }

        var idAt: [RecordPosition: String] = [:]
        idAt.reserveCapacity(index.readIDs.count + acknowledgements.count)
        var conflicts: [RecordPosition: [String]] = [:]
        var conflictOrder: [RecordPosition] = []
        func observe(_ id: String, at position: RecordPosition) {
            // Reading through the defaulted subscript's inout access inserts `id` if the position is new, in
            // the same search that finds what was there.
            let known = current(&idAt[position, default: id])
            guard known != id else { return }
            if conflicts[position] == nil {
                conflictOrder.append(position)
                conflicts[position] = [known]
            }
            if conflicts[position]?.contains(id) == false { conflicts[position]?.append(id) }
        }
        for id in index.readIDs {
            for position in index.sightings[id]?.positions.elements ?? [] { observe(id, at: position) }
        }
        for (id, position) in acknowledgements { observe(id, at: position) }
        for position in conflictOrder {
            finding.record(
                .severalIDsAtOnePosition(position: position, ids: conflicts[position] ?? []),
                limit: exampleLimit
            )
        }
        return finding
    }

    private func current(_ value: inout String) -> String { value }
}
