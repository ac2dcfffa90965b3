"""compose.yaml and .env.example agree with each other and with odek's configuration;
``docker-compose config`` accepts the file, its profile and the override in DEPLOY.md."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from odek.config import load_config
from odek.config.fields import FIELDS_BY_ENV
from odek.logs import ENV_FORMAT, ENV_LEVEL

ROOT = Path(__file__).parent.parent
COMPOSE = (ROOT / "compose.yaml").read_text()
ENV_EXAMPLE = (ROOT / ".env.example").read_text()


def example_variables() -> dict[str, str]:
    """``.env.example`` as name -> value."""
    return dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.splitlines()
        if line.strip() and not line.startswith("#")
    )


def test_compose_passes_exactly_the_variables_of_env_example() -> None:
    keys = set(re.findall(r"^ +(ODEK_\w+): ", COMPOSE, re.MULTILINE))
    interpolated = set(re.findall(r"\$\{(\w+)", COMPOSE))
    assert keys == interpolated == set(example_variables())
    for name in keys:  # each passes its own variable, never another's
        assert re.search(rf"^ +{name}: \$\{{{name}:-[^}}]*\}}$", COMPOSE, re.MULTILINE), name


def test_every_variable_is_one_odek_reads_and_is_explained() -> None:
    known = set(FIELDS_BY_ENV) | {ENV_FORMAT, ENV_LEVEL}
    assert set(example_variables()) <= known
    lines = ENV_EXAMPLE.splitlines()
    for index, line in enumerate(lines):
        if line and not line.startswith("#"):
            # A variable, or a run of related ones, sits right under its comment.
            above = index - 1
            while lines[above] and not lines[above].startswith("#"):
                above -= 1
            assert lines[above].startswith("# "), f"{line} has no comment"


def test_the_example_values_are_valid_settings(tmp_path: Path, odek_home: Path) -> None:
    environ = {"ODEK_HOME": str(odek_home)} | example_variables()
    config = load_config(cwd=tmp_path, environ=environ)
    assert config.schedules.timezone == "UTC"
    assert config.schedules.http_addr == ""


def test_the_image_home_is_the_volume_compose_mounts() -> None:
    home = re.search(r"ODEK_HOME=(\S+)", (ROOT / "Dockerfile").read_text())
    assert home is not None
    assert f"- odek-home:{home.group(1)} " in COMPOSE


def docker_compose() -> str:
    """The docker-compose command; .ci/compose-check installs it before the tests."""
    command = shutil.which("docker-compose")
    if command is None:
        pytest.skip("docker-compose is not installed (.ci/compose-check installs it)")
    return command


def compose_config(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [docker_compose(), "--env-file", str(ROOT / ".env.example"), *args, "config"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
    )


def test_docker_compose_accepts_the_file_and_the_scheduler_profile() -> None:
    plain = compose_config("-f", "compose.yaml")
    assert plain.returncode == 0, plain.stderr
    assert "init: true" in plain.stdout
    assert "restart: unless-stopped" in plain.stdout
    profiled = compose_config("-f", "compose.yaml", "--profile", "scheduler")
    assert profiled.returncode == 0, profiled.stderr
    assert re.search(r"command:\n\s+- schedule\n\s+- daemon", profiled.stdout)


def test_docker_compose_accepts_the_metrics_override_of_deploy_md(tmp_path: Path) -> None:
    doc = (ROOT / "docs" / "DEPLOY.md").read_text()
    override = next(
        body
        for body in re.findall(r"```yaml\n(.*?)```", doc, re.DOTALL)
        if body.startswith("services:")
    )
    shutil.copy(ROOT / "compose.yaml", tmp_path / "compose.yaml")
    (tmp_path / "compose.override.yaml").write_text(override)
    merged = compose_config("-f", "compose.yaml", "-f", "compose.override.yaml", cwd=tmp_path)
    assert merged.returncode == 0, merged.stderr
    assert "ODEK_HTTP_ADDR: 0.0.0.0:9090" in merged.stdout
    assert "published: 9090" in merged.stdout or "127.0.0.1:9090:9090" in merged.stdout
