"""docs/configuration.md and `rill <command> --help` must list the same flags, both ways."""
import re
import subprocess
from pathlib import Path

import pytest


DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def documented_flags(command: str) -> set[str]:
    """Flags in the first column of the tables under `## rill <command>`."""
    text = DOC.read_text()
    match = re.search(rf"^## rill {command}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"docs/configuration.md has no section for rill {command}"
    section = match.group(1)
    flags = set(re.findall(r"^\| `(--[a-z0-9-]+)`", section, re.M))
    # "also takes `--a`, `--b` ..." sentences list shared flags without repeating the table.
    for sentence in re.findall(r"also takes (.*?)(?:\n\n|$)", section, re.S):
        flags |= set(re.findall(r"`(--[a-z0-9-]+)`", sentence))
    return flags


def help_flags(binary, command: str) -> set[str]:
    out = subprocess.run([str(binary), command, "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    flags = set(re.findall(r"^\s+(?:-\w, )?(--[a-z0-9-]+)", out.stdout, re.M))
    return flags - {"--help", "--version"}


@pytest.mark.parametrize("command", ["node", "up", "router"])
def test_configuration_doc_matches_help(rill_bin, command):
    documented, offered = documented_flags(command), help_flags(rill_bin, command)
    assert offered - documented == set(), f"rill {command} flags missing from docs/configuration.md"
    assert documented - offered == set(), f"docs/configuration.md documents flags rill {command} does not have"
