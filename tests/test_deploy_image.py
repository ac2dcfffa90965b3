"""The Dockerfile, checked without Docker: what it copies exists and is what the package
needs; installed the way it installs odek (a wheel of the copied files in a fresh
environment), the entrypoint, the commands the image and compose.yaml run and the
HEALTHCHECK work."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from odek.health import HEARTBEAT_FILE, Heartbeat
from odek.health.heartbeat import process_start
from odek.store.files import atomic_write

ROOT = Path(__file__).parent.parent


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def only(keyword: str) -> str:
    [value] = [rest for kw, rest in instructions() if kw == keyword]
    return value


def copied() -> list[str]:
    """The build-context paths the Dockerfile copies."""
    return [src for kw, rest in instructions() if kw == "COPY" for src in rest.split()[:-1]]


def test_the_files_copied_exist_are_not_ignored_and_make_the_package() -> None:
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = copied()
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not any(fnmatch.fnmatch(source, pattern) for pattern in ignored), source
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    needed = {"pyproject.toml", project["project"]["readme"]}
    needed |= set(project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"])
    assert needed == set(sources)


def test_the_image_runs_odek_as_an_unprivileged_user_with_its_home_on_a_volume() -> None:
    user = only("USER")
    assert user not in ("root", "0")
    runs = " ".join(rest for kw, rest in instructions() if kw == "RUN")
    assert re.search(rf"useradd [^&]*--uid [1-9]\d* [^&]*\b{user}\b", runs)
    home = re.search(r"ODEK_HOME=(\S+)", only("ENV"))
    assert home is not None
    assert json.loads(only("VOLUME")) == [home.group(1)]
    assert json.loads(only("ENTRYPOINT")) == ["odek"]
    assert json.loads(only("CMD")) == ["telegram"]
    assert only("HEALTHCHECK").endswith('CMD ["odek", "health"]')


def _uv() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        pytest.skip("needs uv (run the suite with `uv run pytest`)")
    return uv


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """odek installed from a build context holding only what the Dockerfile copies, into a
    fresh virtual environment; its dependencies come from the project's environment (the
    image downloads them; this test stays off the network). Returns the venv's bin."""
    uv = _uv()
    base = tmp_path_factory.mktemp("image")
    context = base / "src"
    context.mkdir()
    for source in copied():
        if (ROOT / source).is_dir():
            shutil.copytree(
                ROOT / source, context / source, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(ROOT / source, context / source)
    subprocess.run(
        [uv, "build", "--quiet", "--wheel", "--offline", str(context), "-o", str(base / "dist")],
        check=True,
        timeout=300,
    )
    [wheel] = (base / "dist").glob("odek-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--offline", "--no-deps", "--python", str(python), wheel],
        check=True,
        timeout=300,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # After the venv's own site-packages, so the wheel's odek wins over the project's.
    (Path(site) / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"


def run(bin_dir: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [str(bin_dir / argv[0]), *argv[1:]],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
        cwd=bin_dir,
    )


def test_the_installed_entrypoint_is_the_wheels_odek(installed: Path) -> None:
    where = run(installed, "python", "-c", "import odek, supervisors; print(odek.__file__)")
    assert where.returncode == 0, where.stderr
    assert where.stdout.startswith(str(installed.parent))
    version = run(installed, "odek", "--version")
    assert version.returncode == 0
    assert version.stdout.startswith("odek ")


@pytest.mark.parametrize(
    "command",
    [["telegram"], ["schedule", "daemon"], ["health"]],
    ids=["image CMD", "scheduler profile", "HEALTHCHECK"],
)
def test_the_commands_of_the_image_and_compose_exist(installed: Path, command: list[str]) -> None:
    result = run(installed, "odek", *command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: odek {' '.join(command)}")


def test_the_healthcheck_tells_no_scheduler_from_a_live_one(
    installed: Path, odek_home: Path
) -> None:
    down = run(installed, "odek", "health")
    assert down.returncode == 1
    assert "no heartbeat" in down.stdout

    now = datetime.now(UTC)
    beat = Heartbeat(
        pid=os.getpid(),
        host=socket.gethostname(),
        pid_start=process_start(os.getpid()),
        started_at=now,
        updated_at=now,
        last_wake=now,
    )
    odek_home.mkdir(mode=0o700)
    atomic_write(odek_home / HEARTBEAT_FILE, msgspec.json.encode(beat))
    up = run(installed, "odek", "health")
    assert up.returncode == 0, up.stdout
    assert up.stdout.startswith("healthy:")
