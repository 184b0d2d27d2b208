"""Third-party output goes to the run folder's log file; the console keeps one progress bar and the summary."""

import subprocess
import sys

CODE = """
import logging, os, sys
from yoloprune.logs import third_party_logs_to
with third_party_logs_to(sys.argv[1]) as console:
    print("python print")
    os.write(1, b"native write\\n")
    late = logging.getLogger("created-inside")  # like NNCF's logger, created during an INT8 export
    late.addHandler(logging.StreamHandler())
    late.warning("logged inside")
    console.write("progress on the console\\n")
late.warning("logged after")  # its handler must not write to the closed log file
print("stdout is back")
"""


def test_python_native_and_logging_output_go_to_the_log_and_come_back(tmp_path):
    log = tmp_path / "run" / "export.log"
    p = subprocess.run([sys.executable, "-c", CODE, str(log)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert log.read_text().splitlines() == ["python print", "native write", "logged inside"]
    assert p.stdout.strip() == "stdout is back"
    assert "progress on the console" in p.stderr and "logged after" in p.stderr
    assert "Logging error" not in p.stderr and "closed file" not in p.stderr
