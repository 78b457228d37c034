// MARK: - One record, several attempts

extension WriteEvent {
    /// Whether this event is a retry of a record an earlier event of the history already tried to write.
    public var isRetry: Bool { (attempt ?? 1) > 1 }

    /// What the record's attempts so far, `self`, and `later` together say about it.
    ///
    /// An acknowledgement at any attempt makes the record acknowledged, at the first position acknowledged (an
    /// idempotent producer's retry is answered with that same position; a plain retry may have stored a copy,
    /// which the final reads show). Otherwise one indeterminate attempt leaves the record indeterminate, even
    /// when a later attempt was refused for certain: that refusal says nothing about the earlier attempt. Only a
    /// record every attempt was refused for is definitely not written.
    ///
    /// `time` is the time of the attempt that settled the outcome (an acknowledgement's time is what
    /// availability is measured on); `attempt` is the highest attempt seen.
    public func merging(_ later: WriteEvent) -> WriteEvent {
        var merged: WriteEvent
        switch (outcome, later.outcome) {
        case (.ok, _):
            merged = self
        case (_, .ok):
            merged = later
        case (.info, _), (_, .info):
            merged = later
            merged.outcome = .info
            merged.error = later.error ?? error
        case (.fail, .fail):
            merged = later
        }
        merged.attempt = max(attempt ?? 1, later.attempt ?? 1)
        merged.producer = producer ?? later.producer
        merged.producerSequence = producerSequence ?? later.producerSequence
        return merged
    }
}
