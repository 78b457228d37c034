"""The deployment files (deploy/kubernetes, deploy/grafana) pass scripts/check-deploy.

Needs no server: it uses none of conftest's fixtures, so no `rill` process starts for it.
"""
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_deploy_files_pass_check_deploy():
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "check-deploy")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"scripts/check-deploy failed:\n{proc.stdout}\n{proc.stderr}"
    assert "check-deploy: ok" in proc.stdout
