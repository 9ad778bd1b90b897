"""JUnit XML: one <testsuite> per contract, one <testcase> per check, for CI test dashboards.

Mapping (CI systems only know pass / failure / error / skipped):
  failed check        -> <failure>, message "observed X, expected Y", body with failing rows and samples
  errored check       -> <error> (the check could not be evaluated)
  warned check        -> a passing testcase with a <system-out> note: a warning must not turn a CI
                         test report red when dq itself lets the data through
  contract not validated (bad contract, missing table) -> one <error> testcase named "validate"
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from dq.checks.result import CheckResult, ContractResult, RunResult, Status
from dq.reports.text import MARK, observed_text, row_text

UNVALIDATED_CASE = "validate"


def to_junit(run: RunResult) -> str:
    root = ET.Element("testsuites", name="dq", id=run.run_id)
    totals = {"tests": 0, "failures": 0, "errors": 0}
    time = 0.0
    for contract in run.contracts:
        suite = _suite(contract, run)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
        time += contract.duration_s
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("skipped", "0")
    root.set("time", f"{time:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(contract: ContractResult, run: RunResult) -> ET.Element:
    suite = ET.Element("testsuite", name=contract.contract)
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("run_id", run.run_id),
        ("path", contract.path),
        ("version", contract.version),
        ("dataset", contract.dataset),
        ("relation", contract.relation),
        ("engine", contract.engine),
        ("status", contract.status.value),
    ):
        if value is not None:
            ET.SubElement(properties, "property", name=name, value=str(value))
    cases = (
        [_unvalidated_case(contract)]
        if contract.error is not None
        else [_case(contract.contract, check) for check in contract.checks]
    )
    suite.extend(cases)
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(c.find("failure") is not None for c in cases)))
    suite.set("errors", str(sum(c.find("error") is not None for c in cases)))
    suite.set("skipped", "0")
    suite.set("time", f"{contract.duration_s:.3f}")
    if contract.started_at:
        suite.set("timestamp", contract.started_at)
    return suite


def _case(classname: str, check: CheckResult) -> ET.Element:
    case = ET.Element("testcase", classname=classname, name=check.name)
    match check.status:
        case Status.failed:
            failure = ET.SubElement(case, "failure", message=_headline(check), type=check.kind)
            failure.text = _details(check)
        case Status.error:
            error = ET.SubElement(case, "error", message=check.message or "could not evaluate", type=check.kind)
            error.text = _details(check)
        case Status.warned:
            note = ET.SubElement(case, "system-out")
            note.text = f"WARN (severity warn, does not block): {_headline(check)}\n{_details(check)}"
    return case


def _unvalidated_case(contract: ContractResult) -> ET.Element:
    case = ET.Element("testcase", classname=contract.contract, name=UNVALIDATED_CASE)
    error = ET.SubElement(case, "error", message=contract.error or "", type="not_validated")
    error.text = f"{contract.path}: could not be validated: {contract.error}"
    return case


def _headline(check: CheckResult) -> str:
    """What a CI dashboard shows in one line: observed vs expected, then dq's own reason."""
    observed = observed_text(check) or (f"{check.failing_rows:,} failing rows" if check.failing_rows else "")
    head = f"observed {observed or 'nothing'}, expected {check.expected}"
    if check.message.startswith("observed "):  # dq's message already says it
        return check.message
    return f"{head}: {check.message}" if check.message else head


def _details(check: CheckResult) -> str:
    lines = [
        f"{MARK[check.status]} {check.name} ({check.kind}, severity {check.severity}, engine {check.engine})",
        f"expected: {check.expected}",
    ]
    if check.observed is not None:
        lines.append(f"observed: {observed_text(check)}")
    if check.failing_rows is not None:
        lines.append(f"failing rows: {check.failing_rows:,}")
    if check.message:
        lines.append(f"message: {check.message}")
    if check.samples:
        lines.append(f"samples (first {len(check.samples)}):")
        lines.extend(f"  {row_text(row)}" for row in check.samples)
    return "\n".join(lines) + "\n"
