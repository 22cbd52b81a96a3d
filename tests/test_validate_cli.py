"""`mlp validate` on the bad-input corpus (tests/bad_specs) and on the CLI contract.

Every case in ``tests/bad_specs/cases.yaml`` is a realistic spec with one defect. The
validator must exit 1 and print one line per problem, ``FILE:LINE:COL: error: field: msg``,
with the expected field, line and message among them, and never a traceback. Most cases
run in-process through ``mlplatform.cli.main``; the hostile ones (YAML bomb, python object
tag, 10,000-deep nesting, non-UTF-8 bytes) run as real subprocesses with a timeout, so a
regression cannot hang or poison the test process.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlplatform import cli
from mlplatform import yamlsafe

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BAD_SPECS = PROJECT_ROOT / "tests" / "bad_specs"
BAD_SPECS_REL = "tests/bad_specs"
EXAMPLES = PROJECT_ROOT / "examples" / "teams"
MANIFEST = yaml.safe_load((BAD_SPECS / "cases.yaml").read_text(encoding="utf-8"))["cases"]

#: cases that must run as real subprocesses
SUBPROCESS_CASES = {"yaml-bomb.yaml", "python-object-tag.yaml", "deep-nesting.yaml", "non-utf8.yaml"}
PWNED = "/tmp/pwned-mlp-bad-specs-5b1e0c"  # what python-object-tag.yaml would create if executed

LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): error: (?P<rest>.*)$")
#: a field path: keys joined by dots, list items by [name] (or [index] where unnamed)
FIELD = re.compile(r"^(?P<field>[A-Za-z_$][\w$-]*(?:\.[\w$:/-]+|\[[^\]\s]+\])*): (?P<message>.*)$")
SUMMARY = re.compile(r"mlp validate: (\d+) spec file\(s\), (\d+) error\(s\)")


def _case_id(case: dict) -> str:
    return case["file"].removesuffix(".yaml")


def _argv(case: dict, *extra: str) -> list[str]:
    argv = ["validate", f"{BAD_SPECS_REL}/{case['file']}", *extra]
    if case.get("stack"):
        argv += ["--stack", case["stack"]]
    return argv


def _run_subprocess(argv: list[str], timeout: float = 60) -> tuple[int, str, str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("MLP_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-m", "mlplatform.cli", *argv],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout, env=env,
    )
    return done.returncode, done.stdout, done.stderr


def _run_in_process(argv: list[str], capsys, monkeypatch) -> tuple[int, str, str]:
    monkeypatch.chdir(PROJECT_ROOT)
    monkeypatch.delenv("MLP_DEBUG", raising=False)
    capsys.readouterr()
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _parse(line: str) -> tuple[str, int, str, str]:
    """(file, line, field, message) of one error line."""
    match = LINE.match(line)
    assert match, f"not a one-line error: {line!r}"
    rest = match["rest"]
    field = FIELD.match(rest)
    if field:
        return match["file"], int(match["line"]), field["field"], field["message"]
    return match["file"], int(match["line"]), "", rest


def _field_matches(case: dict, field: str) -> bool:
    if case.get("field_prefix"):
        return field == case["field"] or field.startswith(case["field"] + "[") or field.startswith(case["field"] + ".")
    return field == case["field"]


def assert_reports_case(case: dict, code: int, out: str, err: str) -> None:
    assert "Traceback" not in out and "Traceback" not in err, out + err
    assert "internal error" not in err, err
    assert code == 1, f"exit {code}\nstdout:\n{out}\nstderr:\n{err}"
    lines = out.splitlines()
    assert lines, f"no error printed; stderr: {err}"

    target = f"{BAD_SPECS_REL}/{case['file']}"
    if (BAD_SPECS / case["file"]).is_dir():
        line_format = re.compile(rf"^{re.escape(target)}/[^/:]+:\d+:\d+: error: ")
    else:
        line_format = re.compile(rf"^{re.escape(target)}:\d+:\d+: error: ")
    for line in lines:
        assert line_format.match(line), f"line does not match {line_format.pattern}: {line!r}"

    summary = SUMMARY.search(err)
    assert summary, f"no summary on stderr: {err!r}"
    assert int(summary.group(2)) == len(lines), (err, lines)

    error_file = f"{BAD_SPECS_REL}/{case.get('error_file', case['file'])}"
    issues = [_parse(line) for line in lines]
    naming = [issue for issue in issues if issue[0] == error_file and _field_matches(case, issue[2])]
    assert naming, f"no error in {error_file} names field {case['field']!r}:\n{out}"
    first = naming[0]
    assert first[1] == case["line"], f"expected line {case['line']}, got:\n{out}"
    assert any(
        issue[1] == case["line"] and case["message"] in issue[3] for issue in naming
    ), f"no error at {error_file}:{case['line']} naming {case['field']!r} contains {case['message']!r}:\n{out}"


# ---------------------------------------------------------------- the corpus


def test_manifest_is_consistent():
    files = [case["file"] for case in MANIFEST]
    assert len(files) == len(set(files)), "duplicate case in cases.yaml"
    assert len(files) >= 30
    on_disk = {p.name for p in BAD_SPECS.iterdir()} - {"cases.yaml"}
    assert on_disk == set(files), "every file under tests/bad_specs is a case, and every case exists"
    for case in MANIFEST:
        assert {"file", "field", "line", "message", "schema"} <= set(case), case
        assert isinstance(case["schema"], bool) and isinstance(case["line"], int) and case["message"]
        if (BAD_SPECS / case["file"]).is_dir():
            assert (BAD_SPECS / case["error_file"]).is_file(), case


@pytest.mark.parametrize(
    "case", [c for c in MANIFEST if c["file"] not in SUBPROCESS_CASES], ids=_case_id
)
def test_bad_spec_is_reported(case, capsys, monkeypatch):
    assert_reports_case(case, *_run_in_process(_argv(case), capsys, monkeypatch))


@pytest.mark.parametrize("case", [c for c in MANIFEST if c["file"] in SUBPROCESS_CASES], ids=_case_id)
def test_hostile_spec_is_reported_by_a_subprocess(case):
    if os.path.exists(PWNED):
        os.remove(PWNED)
    assert_reports_case(case, *_run_subprocess(_argv(case)))
    assert not os.path.exists(PWNED), "a YAML tag executed code"


def test_python_object_tag_never_runs():
    case = next(c for c in MANIFEST if c["file"] == "python-object-tag.yaml")
    assert PWNED in (BAD_SPECS / case["file"]).read_text(encoding="utf-8")
    if os.path.exists(PWNED):
        os.remove(PWNED)
    code, out, err = _run_subprocess(_argv(case))
    assert code == 1
    assert not os.path.exists(PWNED)
    # also as JSON and via the loader API, in-process
    from mlplatform.errors import SpecError
    from mlplatform.spec.loader import load_spec_file

    with pytest.raises(SpecError):
        load_spec_file(BAD_SPECS / case["file"])
    assert not os.path.exists(PWNED)


@pytest.mark.parametrize(
    "case", [c for c in MANIFEST if c["file"] not in SUBPROCESS_CASES], ids=_case_id
)
def test_bad_spec_as_json(case, capsys, monkeypatch):
    code, out, err = _run_in_process(_argv(case, "--format", "json"), capsys, monkeypatch)
    assert code == 1
    assert "Traceback" not in out + err
    report = json.loads(out)
    assert report["valid"] is False
    assert report["issues"]
    for issue in report["issues"]:
        assert {"file", "line", "column", "field", "message"} <= set(issue)
        assert isinstance(issue["line"], int) and isinstance(issue["column"], int)
        assert "\n" not in issue["message"]
    error_file = f"{BAD_SPECS_REL}/{case.get('error_file', case['file'])}"
    naming = [i for i in report["issues"] if i["file"] == error_file and _field_matches(case, i["field"])]
    assert naming, report["issues"]
    assert naming[0]["line"] == case["line"]
    assert any(i["line"] == case["line"] and case["message"] in i["message"] for i in naming), naming


# ---------------------------------------------------------------- generated big inputs


def _padded_example(target: Path, size: int) -> None:
    """fraud-detection.yaml padded with comment lines to exactly ``size`` bytes."""
    text = (EXAMPLES / "fraud-detection.yaml").read_bytes()
    filler = b"# padding " + b"x" * 69 + b"\n"
    body = text + filler * ((size - len(text)) // len(filler))
    body += b"#" * (size - len(body) - 1) + b"\n" if size - len(body) >= 2 else b"\n" * (size - len(body))
    assert len(body) == size
    target.write_bytes(body)


def test_file_at_the_size_cap_is_accepted(tmp_path):
    target = tmp_path / "fraud-detection.yaml"
    _padded_example(target, yamlsafe.MAX_FILE_BYTES)
    code, out, err = _run_subprocess(["validate", str(target)])
    assert (code, out) == (0, ""), err


def test_oversize_file_is_rejected(tmp_path):
    target = tmp_path / "fraud-detection.yaml"
    _padded_example(target, yamlsafe.MAX_FILE_BYTES + 1)
    code, out, err = _run_subprocess(["validate", str(target)])
    assert code == 1 and "Traceback" not in out + err
    lines = out.splitlines()
    assert lines == [
        f"{target}:1:1: error: file is {yamlsafe.MAX_FILE_BYTES + 1} bytes; "
        f"specs are capped at {yamlsafe.MAX_FILE_BYTES} bytes"
    ]


def test_too_many_values_without_aliases(tmp_path):
    text = (EXAMPLES / "fraud-detection.yaml").read_text(encoding="utf-8")
    values = ",".join(["1"] * (yamlsafe.MAX_NODES + 1))
    text = text.replace("budget: {monthlyUsd: 25000, alertAtPercent: [50, 80, 100]}",
                        f"budget: {{monthlyUsd: 25000, alertAtPercent: [{values}]}}")
    assert values in text
    target = tmp_path / "fraud-detection.yaml"
    target.write_text(text, encoding="utf-8")
    if target.stat().st_size > yamlsafe.MAX_FILE_BYTES:
        pytest.skip("the value cap cannot be reached under the size cap with this layout")
    code, out, err = _run_subprocess(["validate", str(target)])
    assert code == 1 and "Traceback" not in out + err
    lines = out.splitlines()
    assert len(lines) == 1
    file, line, field, message = _parse(lines[0])
    assert file == str(target) and field.startswith("spec.budget.alertAtPercent[")
    assert f"document expands to more than {yamlsafe.MAX_NODES} values" in message


# ---------------------------------------------------------------- the CLI contract


def test_examples_are_valid():
    code, out, err = _run_subprocess(["validate", "examples/teams"])
    assert (code, out) == (0, ""), err
    assert "Traceback" not in err
    assert SUMMARY.search(err) is None and "valid" in err


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_stack_teams_are_valid_without_paths(stack, capsys, monkeypatch):
    code, out, err = _run_in_process(["validate", "--stack", stack], capsys, monkeypatch)
    assert (code, out) == (0, ""), out + err


def test_stack_dev_without_paths_as_a_subprocess():
    code, out, err = _run_subprocess(["validate", "--stack", "dev"])
    assert (code, out) == (0, ""), err


def test_valid_examples_as_json(capsys, monkeypatch):
    code, out, err = _run_in_process(["validate", "examples/teams", "--format", "json"], capsys, monkeypatch)
    assert code == 0
    report = json.loads(out)
    assert report["valid"] is True and report["issues"] == []
    assert report["teams"] == ["fraud-detection", "nlp-research", "recommendations"]


def test_overlapping_paths_do_not_make_a_team_its_own_duplicate(capsys, monkeypatch):
    """A folder plus a file inside it (as CI scripts do) names the same file twice."""
    code, out, err = _run_in_process(
        ["validate", "examples/teams", "examples/teams/nlp-research.yaml"], capsys, monkeypatch
    )
    assert (code, out) == (0, ""), out


def test_nonexistent_path_is_a_usage_error():
    code, out, err = _run_subprocess(["validate", "tests/bad_specs/no-such-team.yaml"])
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert err.strip().splitlines() == ["tests/bad_specs/no-such-team.yaml: no such file or directory"]


def test_unknown_stack_is_a_usage_error():
    code, out, err = _run_subprocess(["validate", "examples/teams", "--stack", "nope"])
    assert code == 2 and out == "" and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and "unknown stack 'nope'" in err


def test_no_arguments_prints_usage_and_the_commands():
    code, out, err = _run_subprocess([])
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.startswith("usage: mlp [-h] [--version] COMMAND ...")
    for command in ("validate", "schema", "plan", "policy", "scan", "cost", "ci", "codeowners", "docs"):
        assert f"\n    {command} " in err or f"\n    {command}\n" in err, command
    assert err.rstrip().endswith("Run 'mlp COMMAND --help' for a command's options.")


def test_version_prints_the_installed_version():
    from importlib.metadata import version

    code, out, err = _run_subprocess(["--version"])
    assert (code, err) == (0, "")
    assert out.strip() == f"mlp {version('mlplatform')}"


@pytest.mark.parametrize("command", ["plan", "policy", "scan", "cost", "ci", "docs", "validate", "codeowners"])
def test_stack_and_format_options_explain_themselves(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--stack STACK" in text
    assert "a stack with a file stacks/Pulumi.<STACK>.yaml: dev, prod, staging" in text
    if "--format" in text:
        assert "report format: text, json" in text and "(default: text)" in text


def test_validate_without_paths_or_stack_is_a_usage_error():
    code, out, err = _run_subprocess(["validate"])
    assert code == 2 and out == "" and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "--stack" in lines[0], err


def test_unknown_format_is_a_usage_error():
    code, out, err = _run_subprocess(["validate", "examples/teams", "--format", "xml"])
    assert code == 2 and out == "" and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_schema_prints_json():
    code, out, err = _run_subprocess(["schema"])
    assert code == 0 and "Traceback" not in err
    schema = json.loads(out)
    assert schema["title"] == "TeamSpec"
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_kueue_queue_needs_a_cluster_in_the_stack():
    """No committed stack lacks a cluster, so this stack check runs on a modified config."""
    from mlplatform.spec.loader import load_specs
    from mlplatform.stackchecks import stack_issues
    from mlplatform.stackconfig import load_stack_config

    result = load_specs([str(EXAMPLES / "recommendations.yaml")])
    assert result.ok
    stack = load_stack_config("dev").model_copy(update={"kubernetes": None})
    issues = stack_issues(result.specs, stack)
    assert [(i.field, i.line) for i in issues] == [("spec.training.queues[kueue-gpu].backend", 39)]
    assert "backend kueue needs a Kubernetes cluster" in issues[0].message


def test_every_option_of_every_command_has_help():
    """Issue 18: `mlp COMMAND --help` explains every option (and argparse lists choices)."""
    import argparse

    def undocumented(parser, prefix):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from undocumented(sub, prefix + [name])
            elif not action.help and action.dest != "help":
                yield " ".join(prefix + (action.option_strings or [action.dest]))

    assert list(undocumented(cli.build_parser(), ["mlp"])) == []
