"""The project's [tool.lambda_local_runner] table: what it gives, and what it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.project import DEFAULT_FUNCTION, ProjectConfigError, S3Trigger, load_project

GOOD = """
[project]
name = "demo"

[tool.lambda_local_runner.functions.wordcount]
handler = "wordcount.handler"
memory = 256
timeout = 10
reserved_concurrency = 2
api = "1.0"
env = { TABLE = "words" }

[[tool.lambda_local_runner.functions.wordcount.s3]]
bucket = "uploads"
prefix = "incoming/"
suffix = ".txt"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_function_table_gives_its_settings_and_triggers(tmp_path: Path) -> None:
    project = load_project(_write(tmp_path, GOOD))
    spec = project.function("wordcount")
    assert (spec.handler, spec.memory_mb, spec.timeout, spec.reserved_concurrency) == (
        "wordcount.handler",
        256,
        10.0,
        2,
    )
    assert spec.api_version == "1.0"
    assert spec.triggers == (S3Trigger(bucket="uploads", prefix="incoming/", suffix=".txt"),)
    assert spec.root == str(tmp_path.resolve())


def test_the_function_config_merges_sandbox_env_under_the_projects_own(tmp_path: Path) -> None:
    spec = load_project(_write(tmp_path, GOOD)).function("wordcount")
    cfg = spec.function_config({"TABLE": "from-sandbox", "AWS_REGION": "eu-west-1"})
    assert cfg.env == {"TABLE": "words", "AWS_REGION": "eu-west-1"}
    assert (cfg.function_name, cfg.memory_mb, cfg.task_root) == ("wordcount", 256, spec.root)


def test_no_table_means_the_sample_function_when_it_is_there(tmp_path: Path) -> None:
    _write(tmp_path, '[project]\nname = "x"\n')
    assert load_project(tmp_path).functions == {}
    (tmp_path / "lambda_function.py").write_text("def handler(e, c): return e\n")
    assert list(load_project(tmp_path).functions) == [DEFAULT_FUNCTION]


def test_this_repositorys_sample_function_is_triggered_by_pdfs_under_2026() -> None:
    spec = load_project(Path(__file__).parents[2]).function(DEFAULT_FUNCTION)
    (trigger,) = spec.triggers
    assert trigger.matches("2026/04/report.pdf")
    assert not trigger.matches("manifests/abc.jsonl")


@pytest.mark.parametrize(
    ("table", "said"),
    [
        ("[tool.lambda_local_runner.functions.f]\nmemory = 256\n", "'handler' is required"),
        ('[tool.lambda_local_runner.functions.f]\nhandler = "nodot"\n', "handler"),
        ('[tool.lambda_local_runner.functions.f]\nhandler = "a.b"\nmemory = 64\n', "memory 64"),
        (
            '[tool.lambda_local_runner.functions.f]\nhandler = "a.b"\nmemory = "big"\n',
            "expected int",
        ),
        ('[tool.lambda_local_runner.functions.f]\nhandler = "a.b"\nmemroy = 1\n', "unknown key"),
        ('[tool.lambda_local_runner.functions.f]\nhandler = "a.b"\napi = "3"\n', ".api"),
        (
            '[tool.lambda_local_runner.functions."bad name"]\nhandler = "a.b"\n',
            "not valid on Lambda",
        ),
        ('[tool.lambda_local_runner.functions.f]\nhandler = "a.b"\nenv = { A = 1 }\n', ".env"),
        (
            '[tool.lambda_local_runner.functions.f]\nhandler = "a.b"\nreserved_concurrency = 0\n',
            "at least 1",
        ),
        (
            '[tool.lambda_local_runner.functions.f]\nhandler = "a.b"\n'
            '[[tool.lambda_local_runner.functions.f.s3]]\nprefix = "x/"\nevents = []\n',
            ".events",
        ),
        ("[tool.lambda_local_runner]\nfunctions = {}\n", "at least one function"),
        ("[tool.lambda_local_runner\n", "not valid TOML"),
    ],
)
def test_a_malformed_table_is_refused_naming_the_file_and_key(
    tmp_path: Path, table: str, said: str
) -> None:
    path = _write(tmp_path, table)
    with pytest.raises(ProjectConfigError) as e:
        load_project(path)
    assert said in str(e.value)
    assert str(path) in str(e.value)


def test_an_unknown_function_name_lists_the_known_ones(tmp_path: Path) -> None:
    project = load_project(_write(tmp_path, GOOD))
    with pytest.raises(KeyError, match="known: wordcount"):
        project.function("nope")
