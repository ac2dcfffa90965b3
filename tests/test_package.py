import subprocess
import sys

import odek


def test_version_flag_prints_the_package_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "odek", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"odek {odek.__version__}"
    assert odek.__version__ == "0.1.0"
