"""`make lint-template` really lints: clean files pass, deliberately broken copies fail."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from deploy.lint import ROOT, asl_reference_problems, lint, main

pytestmark = pytest.mark.skipif(
    shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) is None,
    reason="cfn-lint is not installed next to this Python (pip install -e '.[dev]')",
)

TEMPLATE = ROOT / "template.yaml"
MACHINES = sorted((ROOT / "statemachine").glob("*.asl.json"))


def test_the_template_and_both_state_machines_are_clean() -> None:
    assert len(MACHINES) == 2
    assert main([]) == 0  # template.yaml and every statemachine/*.asl.json


def test_a_template_with_a_retired_runtime_fails(tmp_path: Path) -> None:
    broken = tmp_path / "template.yaml"
    broken.write_text(TEMPLATE.read_text().replace("Runtime: python3.12", "Runtime: python2.7"))
    assert main([str(broken)]) == 1
    assert any("E2533" in p for p in lint([broken]))


def test_an_asl_choice_with_a_misspelt_operator_fails_the_schema(tmp_path: Path) -> None:
    definition = json.loads((ROOT / "statemachine" / "manifest.asl.json").read_text())
    rule = definition["States"]["IsDone"]["Choices"][0]
    rule["BooleanEqualz"] = rule.pop("BooleanEquals")
    broken = tmp_path / "manifest.asl.json"
    broken.write_text(json.dumps(definition))
    problems = lint([broken])
    assert any("E3601" in p for p in problems), problems


def test_an_asl_state_pointing_nowhere_fails(tmp_path: Path) -> None:
    definition = json.loads((ROOT / "statemachine" / "fanout.asl.json").read_text())
    inner = definition["States"]["EachPdf"]["ItemProcessor"]["States"]["ProcessBatch"]
    del inner["End"]
    inner["Next"] = "Nowhere"
    broken = tmp_path / "fanout.asl.json"
    broken.write_text(json.dumps(definition))
    problems = lint([broken])
    assert any("'Nowhere' is not a state" in p for p in problems), problems


def test_reference_check_finds_a_missing_start_state() -> None:
    problems = asl_reference_problems({"StartAt": "A", "States": {"B": {"Type": "Succeed"}}}, "x")
    assert problems == ["x: StartAt 'A' is not a state"]


def test_a_missing_file_is_bad_input() -> None:
    assert main(["no/such/template.yaml"]) == 2
