"""Report formats: golden files on one fixed RunResult, a real JUnit parser, $GITHUB_STEP_SUMMARY,
several `--output FORMAT:PATH` in one CLI run, and the HTML page looked at in real headless Chromium.

Regenerate the golden files after an intended change with
`DQ_UPDATE_GOLDEN=1 pytest tests/test_reports.py`, and review the diff.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml
from typer.testing import CliRunner

from dq.checks.result import CheckResult, ContractResult, RunResult, Status
from dq.checks.spec import CheckKind, CheckSpec
from dq.cli import app
from dq.contract.model import Severity
from dq.reports import ReportFormat, ReportTarget, parse_target, render, render_table_text
from dq.reports.charts import bins_chart, bounds_from_expected, chart_for
from dq.reports.markdown import append_step_summary
from tests.conftest import MakeDb

EXPECTED = Path(__file__).parent / "fixtures" / "reports" / "expected"
SUFFIX = {
    ReportFormat.table: "txt",
    ReportFormat.json: "json",
    ReportFormat.junit: "xml",
    ReportFormat.markdown: "md",
    ReportFormat.html: "html",
}
FAILING_CHECK = "income.mean"


def check(name: str, kind: str, status: Status, expected: str, severity: str = "error", **found: object) -> CheckResult:
    column = name.split(".")[0]
    return CheckResult(name, kind, (column,), severity, "pandera", status, expected, **found)  # type: ignore[arg-type]


def fixed_run() -> RunResult:
    """Every status, every shape of finding, fixed ids and times: the input of every golden file."""
    training = ContractResult(
        contract="churn_training_set",
        path="contracts/training_set.yml",
        version="1.0.0",
        dataset="model training_set",
        relation="main.training_set",
        engine="auto",
        started_at="2025-01-02T03:04:05+00:00",
        duration_s=1.25,
        checks=[
            check("customer_id.not_null", "not_null", Status.passed, "no nulls", failing_rows=0),
            check(
                "age.range",
                "between",
                Status.failed,
                "between 18 and 120",
                failing_rows=7,
                samples=[{"customer_id": 161, "age": 150}, {"customer_id": 176, "age": -3}],
                message="7 rows where age is not between 18 and 120",
            ),
            check(
                FAILING_CHECK,
                "mean",
                Status.failed,
                "between 20000 and 90000",
                observed=95000.5,
                message="observed 9.5e+04, expected between 20000 and 90000",
            ),
            check(
                "email.pattern",
                "pattern",
                Status.warned,
                "matches /^[^@]+@[^@]+$/",
                severity="warn",
                failing_rows=2,
                samples=[{"customer_id": 11, "email": "user11.example.com"}, {"customer_id": 12, "email": ""}],
                message="2 rows not matching /^[^@]+@[^@]+$/",
            ),
            check(
                "age.drift",
                "drift",
                Status.warned,
                "PSI <= 0.2",
                severity="warn",
                observed={
                    "bins": ["18-30", "30-45", "45-60", "60+"],
                    "expected": [0.3, 0.3, 0.25, 0.15],
                    "observed": [0.1, 0.25, 0.3, 0.35],
                    "psi": 0.41,
                },
                message="age drifted: PSI 0.41",
            ),
            check("snapshot_at.freshness", "freshness", Status.passed, "newest value at most 36h old", observed=3.5),
            check(
                "plan_id.references",
                "references",
                Status.error,
                "exists in stg_plans.plan_id",
                message="referenced dataset: table main.stg_plans not found | fix: dbt build",
            ),
        ],
    )
    training.checks[-1].engine = "dq"
    orders = ContractResult(
        contract="orders",
        path="contracts/orders.yml",
        started_at="2025-01-02T03:04:06+00:00",
        duration_s=0.01,
        error="contracts/orders.yml: dataset.table: table main.orders not found in warehouse.duckdb <tables: none>",
    )
    customers = ContractResult(
        contract="stg_customers",
        path="contracts/stg_customers.yml",
        version="2.1.0",
        dataset="model stg_customers",
        relation="main.stg_customers",
        engine="auto",
        started_at="2025-01-02T03:04:06+00:00",
        duration_s=0.5,
        checks=[
            check("row_count", "row_count", Status.passed, ">= 1000", observed=2000),
            check("customer_id.unique", "unique", Status.passed, "unique (customer_id)", failing_rows=0),
        ],
    )
    return RunResult(
        run_id="20250102T030405-0123abcd",
        started_at="2025-01-02T03:04:05+00:00",
        finished_at="2025-01-02T03:04:07+00:00",
        contracts=[training, orders, customers],
        result_path=".dq/results/20250102T030405-0123abcd.json",
    )


def rendered(fmt: ReportFormat) -> str:
    return render_table_text(fixed_run()) if fmt is ReportFormat.table else render(fixed_run(), fmt)


@pytest.mark.parametrize("fmt", list(ReportFormat), ids=str)
def test_report_matches_golden(fmt: ReportFormat) -> None:
    golden = EXPECTED / f"run.{SUFFIX[fmt]}"
    actual = rendered(fmt)
    if os.environ.get("DQ_UPDATE_GOLDEN"):
        golden.write_text(actual, encoding="utf-8")
    assert actual == golden.read_text(encoding="utf-8")


# --- JUnit ------------------------------------------------------------------------------------


def test_junit_parses_with_the_right_counts(tmp_path: Path) -> None:
    path = tmp_path / "dq.xml"
    path.write_text(render(fixed_run(), ReportFormat.junit), encoding="utf-8")
    xml = JUnitXml.fromfile(str(path))
    suites = {suite.name: suite for suite in xml}
    assert list(suites) == ["churn_training_set", "orders", "stg_customers"]
    training = suites["churn_training_set"]
    assert (training.tests, training.failures, training.errors, training.skipped) == (7, 2, 1, 0)
    assert (suites["orders"].tests, suites["orders"].errors) == (1, 1)
    assert (suites["stg_customers"].tests, suites["stg_customers"].failures) == (2, 0)

    cases = {case.name: case for case in training}
    assert all(case.classname == "churn_training_set" for case in cases.values())
    (mean_failure,) = cases[FAILING_CHECK].result
    assert isinstance(mean_failure, Failure)
    assert mean_failure.message.startswith("observed 9.5e+04, expected between 20000 and 90000")
    (range_failure,) = cases["age.range"].result
    assert "failing rows: 7" in range_failure.text and "customer_id=161, age=150" in range_failure.text
    # a warning does not turn CI red, but it is visible
    assert cases["email.pattern"].is_passed and "WARN" in cases["email.pattern"].system_out
    assert "user11.example.com" in cases["email.pattern"].system_out
    (error,) = cases["plan_id.references"].result
    assert isinstance(error, Error) and "stg_plans" in error.message
    (unvalidated,) = next(iter(suites["orders"])).result
    assert isinstance(unvalidated, Error) and "main.orders not found" in unvalidated.message


# --- output targets and charts ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("reports/dq.json", ReportTarget(ReportFormat.json, Path("reports/dq.json"))),
        ("dq.json", ReportTarget(ReportFormat.json, Path("dq.json"))),
        ("junit:reports/dq.xml", ReportTarget(ReportFormat.junit, Path("reports/dq.xml"))),
        ("html:reports/dq.html", ReportTarget(ReportFormat.html, Path("reports/dq.html"))),
        ("markdown:summary.md", ReportTarget(ReportFormat.markdown, Path("summary.md"))),
        ("table:out.txt", ReportTarget(ReportFormat.table, Path("out.txt"))),
        ("JSON:x.json", ReportTarget(ReportFormat.json, Path("x.json"))),
        ("./odd:name.json", ReportTarget(ReportFormat.json, Path("./odd:name.json"))),
        ("C:/reports/dq.json", ReportTarget(ReportFormat.json, Path("C:/reports/dq.json"))),
    ],
)
def test_output_targets(text: str, expected: ReportTarget) -> None:
    assert parse_target(text) == expected


@pytest.mark.parametrize("text", ["xml:dq.xml", "junit:", ""])
def test_bad_output_targets_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"FORMAT|path|--output"):
        parse_target(text)


def spec(kind: CheckKind, **args: object) -> CheckSpec:
    return CheckSpec("c", kind, Severity.error, ("x",), args)


@pytest.mark.parametrize(
    ("check_spec", "bounds"),
    [
        (spec(CheckKind.mean, min=20000.0, max=90000.0), (20000.0, 90000.0)),
        (spec(CheckKind.stddev, min=0.5, max=None), (0.5, None)),
        (spec(CheckKind.null_fraction, min=None, max=0.05), (None, 0.05)),
        (spec(CheckKind.row_count, min=1000, max=20000000), (1000.0, 20000000.0)),
        (spec(CheckKind.distinct_count, min=3, max=5), (3.0, 5.0)),
        (spec(CheckKind.quantile, q=0.5, min=40, max=70), (40.0, 70.0)),
        (spec(CheckKind.freshness, max_age_seconds=129600), (None, 36.0)),
        (spec(CheckKind.mean, min=-1.5e-7, max=2.25), (-1.5e-7, 2.25)),
    ],
    ids=lambda v: v.kind.value if isinstance(v, CheckSpec) else "",
)
def test_chart_bounds_read_the_specs_own_wording(check_spec: CheckSpec, bounds: tuple) -> None:
    """The chart reads bounds from `expected`; a change in CheckSpec.expectation() wording fails here."""
    assert bounds_from_expected(check_spec.expectation()) == bounds


def test_charts_mark_the_observed_value_and_tolerate_bad_input() -> None:
    run = fixed_run()
    mean = next(c for c in run.contracts[0].checks if c.name == FAILING_CHECK)
    svg = chart_for(mean)
    assert svg is not None and svg.startswith("<svg") and "observed 95,000.5" in svg and "#cf222e" in svg
    drift = next(c for c in run.contracts[0].checks if c.kind == "drift")
    assert (chart_for(drift) or "").count("<rect") == 8 + 2  # 4 bins x (expected, observed) + legend
    assert bins_chart({"bins": ["a"], "observed": [1, 2]}) is None
    assert bins_chart({"bins": ["a"], "observed": ["x"]}) is None
    assert chart_for(check("c", "mean", Status.failed, "no bound", observed=1.0)) is None
    assert chart_for(check("c", "mean", Status.failed, "between 1 and 2", observed=float("nan"))) is not None


def test_html_is_self_contained() -> None:
    page = render(fixed_run(), ReportFormat.html)
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page and "<link" not in page
    for name in ("age.range", FAILING_CHECK, "email.pattern", "plan_id.references", "row_count"):
        assert name in page
    assert "main.orders not found" in page and page.count("<svg") == 2


# --- through the CLI --------------------------------------------------------------------------

TABLE = "CREATE TABLE customers AS SELECT * FROM (VALUES (1, 34), (2, 51), (3, 17)) t(id, age)"
CONTRACT = """contract: customers
version: 1.0.0
dataset: {table: main.customers}
columns:
  id: {type: integer, nullable: false}
  age: {type: integer, min: 18}
"""


@pytest.fixture
def invoke(tmp_path: Path, make_db: MakeDb, monkeypatch: pytest.MonkeyPatch) -> Callable[..., object]:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    db = make_db(TABLE)
    contract = tmp_path / "customers.yml"
    contract.write_text(CONTRACT, encoding="utf-8")

    def run(*args: str, contracts: tuple[str, ...] = (str(contract),), env: dict[str, str] | None = None) -> object:
        argv = ["validate", *contracts, "--db", str(db), "--results-dir", str(tmp_path / "results"), *args]
        return CliRunner().invoke(app, argv, env=env)

    return run


def test_several_outputs_in_one_run(invoke, tmp_path: Path) -> None:
    xml, page, plain = tmp_path / "r" / "dq.xml", tmp_path / "r" / "dq.html", tmp_path / "r" / "dq.json"
    result = invoke("--output", f"junit:{xml}", "--output", f"html:{page}", "-o", str(plain))
    assert result.exit_code == 1, result.output
    suite = next(iter(JUnitXml.fromfile(str(xml))))
    assert (suite.tests, suite.failures) == (6, 1)
    assert "age.range" in page.read_text(encoding="utf-8")
    assert json.loads(plain.read_text(encoding="utf-8"))["status"] == "failed"  # a bare path is still JSON


@pytest.mark.parametrize(
    ("fmt", "marker"), [("junit", "<testsuites"), ("markdown", "### ❌ dq:"), ("html", "<!DOCTYPE html>")]
)
def test_format_on_stdout(invoke, fmt: str, marker: str) -> None:
    result = invoke("--format", fmt)
    assert result.exit_code == 1 and result.stdout.startswith(marker if fmt != "junit" else "<?xml")
    assert marker in result.stdout and "age.range" in result.stdout


def test_unknown_output_format_is_a_usage_error(invoke, tmp_path: Path) -> None:
    result = invoke("--output", f"xml:{tmp_path / 'dq.xml'}")
    assert result.exit_code == 2 and "unknown report format 'xml'" in result.output
    assert not (tmp_path / "results").exists()  # refused before anything ran


def test_a_report_that_cannot_be_written_exits_3(invoke, tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("", encoding="utf-8")
    result = invoke("--output", f"html:{blocker / 'dq.html'}")
    assert result.exit_code == 3 and "cannot write a report" in result.output and "html report" in result.output


def test_github_step_summary_gets_the_markdown_appended(invoke, tmp_path: Path) -> None:
    summary = tmp_path / "step_summary.md"
    summary.write_text("# earlier step\n", encoding="utf-8")
    result = invoke(env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 1
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# earlier step\n")
    assert "### ❌ dq: blocked: error-severity checks failed" in text and "`age.range`" in text
    assert append_step_summary(fixed_run(), environ={}) is None


def test_progress_is_one_stderr_line_per_contract_when_not_a_tty(invoke, tmp_path: Path) -> None:
    second = tmp_path / "second.yml"
    second.write_text(CONTRACT.replace("min: 18", "min: 0"), encoding="utf-8")
    result = invoke("--format", "json", contracts=(str(tmp_path / "customers.yml"), str(second)))
    lines = result.stderr.splitlines()
    assert [line.split(" ... ")[1].split(" (")[0] for line in lines] == ["failed", "passed"], result.stderr
    assert lines[0].startswith(f"dq: validating {tmp_path / 'customers.yml'} ... failed (")
    assert json.loads(result.stdout)["status"] == "failed"  # stdout stays the report


# --- the HTML page in a real browser ----------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
INSTALL = "apt-get update && apt-get install -y chromium tesseract-ocr"


def screenshot(page: Path, png: Path, profile: Path) -> None:
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            "--window-size=1280,2000",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )


def png_distinct_bytes(png: Path) -> int:
    """How varied the decoded image data is: a blank page compresses to a handful of byte values."""
    data, pos, idat = png.read_bytes(), 8, b""
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos : pos + 4]), data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return len(set(zlib.decompress(idat)))


def test_html_page_shows_the_failing_check_in_headless_chromium(tmp_path: Path) -> None:
    if not Path(CHROMIUM).is_file() or shutil.which("tesseract") is None:
        pytest.fail(f"headless Chromium and tesseract are required for this test; install them with: {INSTALL}")
    page, png = tmp_path / "dq.html", tmp_path / "dq.png"
    page.write_text(render(fixed_run(), ReportFormat.html), encoding="utf-8")
    screenshot(page, png, tmp_path / "profile")
    assert png.stat().st_size > 10_000 and png_distinct_bytes(png) > 64, "the screenshot is blank"
    ocr = subprocess.run(["tesseract", str(png), "-", "--psm", "3"], check=True, capture_output=True, text=True).stdout
    assert FAILING_CHECK in ocr, f"{FAILING_CHECK!r} not on the rendered page; OCR read:\n{ocr}"
    assert "blocked: could not validate" in ocr
