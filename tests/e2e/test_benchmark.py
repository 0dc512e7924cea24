"""The benchmark command runs end to end on a tiny book (its figures are printed, never
asserted: this only checks that every figure is taken and the throwaway store is gone)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import run


def test_a_tiny_run_takes_every_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "figures.json"
    run.main(["--events", "400", "--years", "2", "--commands", "30", "--data", str(tmp_path),
              "--bill-accounts", "2", "--bill-years", "2", "--json", str(out)])
    figures = json.loads(out.read_text())
    assert 0 < figures["rebuild_events"] <= figures["events"]  # the views fold some topics
    for name in ("command_rate", "raw_append_rate", "cold_command_rate", "rebuild_rate",
                 "raw_read_rate", "command_ratio", "rebuild_ratio"):
        assert figures[name] > 0, name
    assert figures["invoice_latency_ms"]["invoices"] >= 100  # ten years of monthly invoices
    assert len(figures["rebuild_peak_rss_mb"]) == 2
    bill = figures["bill_run"]
    assert bill["first_year_ms"] > 0 and bill["last_year_ms"] > 0 and bill["bare_ratio"] > 0
    printed = capsys.readouterr().out
    assert "target >= 0.70" in printed and "target within 20%" in printed
    assert "target <= 1.2" in printed
    # The books stay for later runs; the bare Application's store is removed.
    assert sorted(p.name for p in tmp_path.glob("*.sqlite")) == [
        "book-0-decade.sqlite", "book-40-tenth.sqlite", "book-400.sqlite"]


def test_one_figure_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run.main(["--events", "300", "--years", "1", "--commands", "20", "--data", str(tmp_path),
              "--figures", "1"])
    printed = capsys.readouterr().out
    assert "1. commands/s" in printed and "2. rebuild" not in printed
    with pytest.raises(SystemExit):
        run.main(["--figures", "6"])


def test_the_http_benchmark_takes_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import http

    figures = http.main(["--commands", "20", "--accounts", "4", "--clients", "2"])
    for name in ("library_rate", "http_rate", "http_concurrent_rate", "http_ratio"):
        assert figures[name] > 0, name
    assert figures["http_latency_ms"]["p95"] >= figures["http_latency_ms"]["median"] > 0
    assert "HTTP, 2 clients at once" in capsys.readouterr().out
