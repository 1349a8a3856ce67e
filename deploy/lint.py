"""``make lint-template``: cfn-lint on ``template.yaml`` and on every ASL file, offline.

cfn-lint checks a state machine's definition (rule E3601, the ASL schema) only when the
definition is inside a template, and the SAM template points at the ASL files by
``DefinitionUri``. So each ASL file is also linted inside a minimal generated template as the
``Definition`` of an ``AWS::StepFunctions::StateMachine``, its ``${Placeholders}`` given
dummy ARNs through ``DefinitionSubstitutions``. The schema does not check that every
``Next``/``Default``/``Catch`` names a state, so that is checked here too, in nested
``ItemProcessor``/``Iterator``/``Branches`` as well.

    python -m deploy.lint [template.yaml] [statemachine/*.asl.json]

Exit 0 clean, 1 problems found (printed), 2 bad arguments or cfn-lint missing.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["asl_reference_problems", "cfn_lint", "lint", "main"]

ROOT = Path(__file__).resolve().parents[1]
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")


class LintUnavailable(RuntimeError):
    """cfn-lint is not installed where this interpreter can find it."""


def _cfn_lint_command() -> list[str]:
    exe = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or shutil.which(
        "cfn-lint"
    )
    if exe is None:
        raise LintUnavailable("cfn-lint is not installed: pip install -e '.[dev]' (make venv)")
    return [exe]


def cfn_lint(*templates: Path) -> list[str]:
    """cfn-lint's findings for ``templates``, in one run (it is slow to start; empty when clean)."""
    run = subprocess.run(
        [*_cfn_lint_command(), "--format", "parseable", "--", *map(str, templates)],
        capture_output=True,
        text=True,
        check=False,
    )
    # cfn-lint's exit code is a bit mask of what it found (2 errors, 4 warnings, 8 info).
    if run.returncode & 1 or run.returncode > 15:
        raise LintUnavailable(f"cfn-lint failed to run: {run.stderr.strip()[-800:]}")
    return [line for line in run.stdout.splitlines() if line.strip()]


def _states(definition: Mapping[str, Any], where: str) -> Iterator[tuple[str, Mapping, str]]:
    """Every (state machine, its States, where) pair, nested ones included."""
    states = definition.get("States")
    if not isinstance(states, Mapping):
        return
    yield where, definition, where
    for name, state in states.items():
        if not isinstance(state, Mapping):
            continue
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), Mapping):
                yield from _states(state[key], f"{where} > {name}.{key}")
        for i, branch in enumerate(state.get("Branches") or []):
            if isinstance(branch, Mapping):
                yield from _states(branch, f"{where} > {name}.Branches[{i}]")


def asl_reference_problems(definition: Mapping[str, Any], source: str) -> list[str]:
    """``StartAt``/``Next``/``Default``/``Catch`` targets that name no state."""
    problems = []
    for where, machine, _ in _states(definition, source):
        states = machine["States"]
        if machine.get("StartAt") not in states:
            problems.append(f"{where}: StartAt {machine.get('StartAt')!r} is not a state")
        for name, state in states.items():
            targets = [("Next", state.get("Next")), ("Default", state.get("Default"))]
            targets += [("Choices[].Next", c.get("Next")) for c in state.get("Choices") or []]
            targets += [("Catch[].Next", c.get("Next")) for c in state.get("Catch") or []]
            for field, target in targets:
                if target is not None and target not in states:
                    problems.append(f"{where}: {name}.{field} {target!r} is not a state")
            if state.get("Type") not in ("Choice", "Succeed", "Fail") and not (
                state.get("End") or state.get("Next")
            ):
                problems.append(f"{where}: {name} has neither Next nor End")
    return problems


def _wrapper_template(definition: Mapping[str, Any], text: str) -> dict[str, Any]:
    substitutions = {
        name: f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        for name in sorted(set(_PLACEHOLDER.findall(text)))
    }
    properties: dict[str, Any] = {
        "RoleArn": "arn:aws:iam::123456789012:role/lint-only",
        "Definition": definition,
    }
    if substitutions:
        properties["DefinitionSubstitutions"] = substitutions
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": properties}
        },
    }


def _asl_wrapper(path: Path, directory: Path) -> tuple[list[str], Path | None]:
    """Reference problems in one ASL file, and its generated wrapper template for cfn-lint."""
    text = path.read_text()
    try:
        definition = json.loads(text)
    except ValueError as e:
        return [f"{path}: not JSON: {e}"], None
    if not isinstance(definition, Mapping):
        return [f"{path}: a state machine definition is a JSON object"], None
    wrapper = directory / f"{len(list(directory.iterdir()))}-{path.stem}.template.json"
    wrapper.write_text(json.dumps(_wrapper_template(definition, text), indent=1))
    return asl_reference_problems(definition, str(path)), wrapper


def lint(paths: Sequence[Path]) -> list[str]:
    """Every problem in ``paths`` (templates by cfn-lint, ``*.asl.json`` as state machines)."""
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="asl-lint-") as tmp:
        wrappers: dict[str, Path] = {}
        targets = []
        for path in paths:
            if path.name.endswith(".asl.json"):
                found, wrapper = _asl_wrapper(path, Path(tmp))
                problems += found
                if wrapper is not None:
                    wrappers[str(wrapper)] = path
                    targets.append(wrapper)
            else:
                targets.append(path)
        for line in cfn_lint(*targets) if targets else []:
            source = next((asl for w, asl in wrappers.items() if line.startswith(w)), None)
            problems.append(f"{source} (as a Definition): {line}" if source else line)
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    paths = [Path(a) for a in args] or [
        ROOT / "template.yaml",
        *sorted((ROOT / "statemachine").glob("*.asl.json")),
    ]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"error: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        problems = lint(paths)
    except LintUnavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    names = ", ".join(p.name for p in paths)
    print(f"lint-template: {len(problems)} problem(s) in {names}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
