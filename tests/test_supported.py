"""docs/SUPPORTED.md (linked from the README) is generated from ember and must match it."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_supported_list_is_up_to_date():
    r = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'supported.py'), '--check'],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
