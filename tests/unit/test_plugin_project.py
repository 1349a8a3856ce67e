"""The plugin from a user's point of view: its markers are registered, the project's function
is the default, and nothing points at S3 unless the test asked for the sandbox. Each case
runs pytest in a fresh process on a small project (pytester), as a user's CI would."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

PYPROJECT = """
[tool.lambda_local_runner.functions.greet]
handler = "greet.handler"
memory = 256
timeout = 5
env = { GREETING = "hello" }
"""
GREET = """
import os
def handler(event, context):
    return {
        "text": f"{os.environ['GREETING']} {event['name']}",
        "endpoint": os.environ.get("AWS_ENDPOINT_URL_S3"),
        "memory": context.memory_limit_in_mb,
    }
"""
TESTS = """
import pytest

def test_the_project_function_is_the_default(lambda_invoke, lambda_function_config):
    assert lambda_function_config.name == "greet"
    inv = lambda_invoke({"name": "ada"})
    assert inv.ok, inv.error
    assert inv.response == {"text": "hello ada", "endpoint": None, "memory": "256"}
    assert inv.memory_size_mb == 256

def test_keywords_override_the_project(lambda_invoke):
    inv = lambda_invoke({"name": "bo"}, env={"GREETING": "hi"}, memory_mb=1024)
    assert inv.response["text"] == "hi bo" and inv.memory_size_mb == 1024

@pytest.mark.integration
def test_the_plugins_marker_is_registered():
    pass
"""


def _project(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(PYPROJECT)
    pytester.makepyfile(greet=GREET, test_greet=TESTS)


def test_a_user_project_runs_clean_under_strict_markers_and_warnings_as_errors(
    pytester: pytest.Pytester,
) -> None:
    _project(pytester)
    result = pytester.runpytest_subprocess(
        "--strict-markers", "-W", "error", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=3)


def test_the_ini_option_picks_one_of_several_functions(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        PYPROJECT
        + '\n[tool.lambda_local_runner.functions.other]\nhandler = "greet.handler"\n'
        + '\n[tool.pytest.ini_options]\nlambda_function = "greet"\n'
    )
    pytester.makepyfile(greet=GREET, test_greet=TESTS)
    result = pytester.runpytest_subprocess("--strict-markers", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_without_a_default_function_lambda_invoke_says_what_to_do(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyprojecttoml(
        PYPROJECT + '\n[tool.lambda_local_runner.functions.other]\nhandler = "greet.handler"\n'
    )
    pytester.makepyfile(
        greet=GREET,
        test_greet="def test_it(lambda_invoke):\n    lambda_invoke({'name': 'x'})\n",
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no handler given and no default function*lambda_function*"])


def test_a_conftest_can_configure_the_function_in_code(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        "import pytest\nfrom sandbox.project import FunctionSpec\n"
        "@pytest.fixture\ndef lambda_function_config(tmp_path_factory):\n"
        "    import os\n"
        "    return FunctionSpec(name='greet', handler='greet.handler', memory_mb=256,\n"
        "                        env={'GREETING': 'hey'}, root=os.getcwd())\n"
    )
    pytester.makepyfile(
        greet=GREET,
        test_greet="def test_it(lambda_invoke):\n"
        "    assert lambda_invoke({'name': 'cy'}).response['text'] == 'hey cy'\n",
    )
    result = pytester.runpytest_subprocess("--strict-markers", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
