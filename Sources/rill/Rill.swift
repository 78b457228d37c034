import RillCLI

/// The `rill` executable: every subcommand lives in RillCLI.
@main extension RillCommand {}
