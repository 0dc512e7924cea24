"""The documentation: every code example in docs/ runs as written, and the site builds
with `mkdocs build --strict`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import IN_CI, postgres_problem

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
FENCE = re.compile(r"(?:<!-- file: (?P<file>\S+) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)\n```", re.S)
RUN = {"python", "sh"}


@dataclass(frozen=True)
class Block:
    lang: str
    body: str
    file: str | None


def blocks(page: Path) -> list[Block]:
    return [Block(m["lang"], m["body"], m["file"]) for m in FENCE.finditer(page.read_text())]


def environment(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"BILLING_LEDGER_DB", "PERSISTENCE_MODULE", "SQLITE_DBNAME"}
           and not k.startswith("POSTGRES_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["BILLING_LEDGER_SCENARIOS"] = str(ROOT / "billing_ledger" / "scenarios")
    env["PYTHONPATH"] = str(ROOT)
    env["HOME"] = str(folder)
    return env


def run_page(page: Path, folder: Path) -> None:
    env = environment(folder)
    namespace: dict[str, object] = {"__name__": f"docs:{page.name}"}
    # A page's PostgreSQL schema is its own on each run, so two runs of the suite against
    # one database (a CI run beside a developer's) do not drop each other's tables.
    schema = f"howto_billing_{uuid.uuid4().hex[:8]}"
    for number, block in enumerate(blocks(page), start=1):
        where = f"{page.relative_to(ROOT)} block {number} ({block.lang})"
        body = block.body.replace("howto_billing", schema)
        if block.file:
            (folder / block.file).write_text(body + "\n")
        if block.lang == "sh":
            dump = folder / ".env-after"
            script = f"set -euo pipefail\n{body}\nenv -0 > {dump}\n"
            done = subprocess.run(["bash", "-c", script], cwd=folder, env=env,
                                  capture_output=True, text=True, check=False)
            assert done.returncode == 0, f"{where} failed:\n{done.stdout}\n{done.stderr}"
            env = dict(item.split("=", 1) for item in dump.read_text().split("\0") if "=" in item)
        elif block.lang == "python":
            saved, cwd = dict(os.environ), os.getcwd()
            os.environ.clear()
            os.environ.update(env)
            os.chdir(folder)
            try:
                exec(compile(body, where, "exec"), namespace)
            except Exception as error:
                raise AssertionError(f"{where} failed: {error!r}") from error
            finally:
                os.chdir(cwd)
                os.environ.clear()
                os.environ.update(saved)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_every_code_example_runs(page: Path, tmp_path: Path) -> None:
    if "<!-- requires: postgresql -->" in page.read_text():
        problem = postgres_problem()
        if problem is not None:
            if IN_CI:
                pytest.fail(f"CI=true needs PostgreSQL: {problem}")
            pytest.skip(problem)
    run_page(page, tmp_path)


def test_the_readme_python_example_runs(tmp_path: Path) -> None:
    readme = [b for b in blocks(ROOT / "README.md") if b.lang == "python"]
    assert readme
    for block in readme:
        cwd = os.getcwd()
        os.chdir(tmp_path)
        try:
            exec(compile(block.body, "README.md", "exec"), {})
        finally:
            os.chdir(cwd)


def test_pages_have_runnable_examples_or_none_pretend_to() -> None:
    """A code block is python or sh (run), or data/output (yaml, text, json)."""
    for page in PAGES:
        for block in blocks(page):
            assert block.lang in RUN | {"yaml", "text", "json", ""}, (page, block.lang)


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
