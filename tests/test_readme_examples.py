"""Every ``$ accelsim ...`` line of README.md and hwconfigs/README.md runs and prints what the README shows.

The README is the source: each example is found in it (``tests/readme_examples.py`` says how:
continuations, indented blocks, the shell forms emulated, ``...`` elisions), run in this process
in one temporary directory, and compared with the lines shown under it. An example that shows an
``error:`` line must exit 2 with exactly that one line; every other must exit 0. The files the
examples write (``-o``, ``--out``, ``--csv``, ``--plot``, ``> FILE``) must be relative paths and
must appear. When the model's numbers change, these fail until the README shows the new output;
``.venv/bin/python tests/readme_examples.py --show [SUBSTRING]`` prints what each example prints
now, for pasting.

The temporary directory holds what the examples read: ``my_specs/8x8_fast_dram.yaml`` (the YAML
block both READMEs show), ``typo.yaml`` (the misspelt field the error names), a copy of
``hwconfigs/`` (``hw validate hwconfigs/*.yaml``, the calibration CSV) and ``my_images/`` (an image
folder as the training section describes). An example that reads a file an earlier one writes
(``run sqnxt23.onnx``, ``evaluate``, ``--resume``) runs that one first if it has not run yet, so
any ``-k`` selection works.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from readme_examples import (  # tests/readme_examples.py (pytest puts tests/ on sys.path)
    READMES,
    Example,
    ShellFormError,
    all_examples,
    check,
    extract,
    make_fixtures,
    mismatch,
    one_torch_thread,
    outputs,
    parse,
    producers,
    report,
    run,
    script_commands,
    shared_layer_costs,
    split_words,
)

EXAMPLES = all_examples()

#: Examples not run here, each with the test that runs exactly it.
COVERED_ELSEWHERE = {
    "accelsim report all": "tests/test_cli_report.py::test_committed_reports_are_what_report_all_writes "
                           "runs exactly it (suite.report_all, what the command calls) and compares every file it "
                           "writes with the committed reports/, which is what this example shows",
    "accelsim train sqnxt23 --width 0.25 --depth 1,1,1,1 --data synthetic:classes=4,size=32,train=256,val=64 "
    "--epochs 1 --image-size 32 --nproc 2 --throughput --out runs/ddp.pt":
        "starts 2 torch processes through torchrun (about 10 s here), whose output this in-process runner cannot "
        "capture; tests/test_training_distributed.py::test_cli_nproc_launches_torchrun_and_rank_0_alone_prints runs "
        "this command (with --max-steps 2) in a subprocess and checks its output and checkpoint",
    "accelsim train --resume runs/ddp.pt --epochs 2 --nproc 2":
        "needs the --nproc 2 example's checkpoint and 2 more torch processes; "
        "tests/test_training_distributed.py::test_ddp_resume_restores_every_rank_and_only_rank_0_writes resumes a "
        "2-process run and checks every rank's state, and README.md's `train --resume runs/digits.pt` example runs "
        "the CLI's --resume here",
}


def _covered(example: Example) -> str | None:
    command = " ".join(example.command.split("#")[0].split())
    return COVERED_ELSEWHERE.get(command)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory):
    """The directory every example runs in, with their fixture files; the current directory
    while this module's tests run, with the layer costs shared (see ``shared_layer_costs``)."""
    where = tmp_path_factory.mktemp("readme")
    make_fixtures(where)
    before = Path.cwd()
    os.chdir(where)
    try:
        with shared_layer_costs(), one_torch_thread():
            yield where
    finally:
        os.chdir(before)


_outcomes: dict[int, object] = {}


def _run(index: int, where: Path):
    if index not in _outcomes:
        _outcomes[index] = run(EXAMPLES[index], where)
    return _outcomes[index]


@pytest.mark.parametrize("index", range(len(EXAMPLES)), ids=[e.id for e in EXAMPLES])
def test_example_prints_what_the_readme_shows(index: int, workdir: Path) -> None:
    example = EXAMPLES[index]
    reason = _covered(example)
    if reason:
        pytest.skip(reason)
    for earlier in producers(EXAMPLES, index, workdir):
        outcome = _run(earlier, workdir)
        assert outcome.exit_code == 0, f"{EXAMPLES[earlier].id}, which {example.id} reads from, failed:\n" + report(
            EXAMPLES[earlier], outcome, check(EXAMPLES[earlier], outcome))
    written = outputs(example, workdir)
    absolute = [path for path in written if Path(path).is_absolute()]
    assert not absolute, f"{example.id} writes outside its directory ({absolute}): use a relative path"
    outcome = _run(index, workdir)
    problems = check(example, outcome)
    if not example.shows_error:
        problems += [f"wrote no {path}" for path in written if not (workdir / path).exists()]
    assert not problems, report(example, outcome, problems)


# -- the extraction and the shell emulation can fail ------------------------------------------


def test_every_readme_has_examples_and_the_error_demonstrations_show_their_error() -> None:
    by_readme = {readme: [e for e in EXAMPLES if e.readme == readme] for readme in READMES}
    assert all(by_readme.values()), {k: len(v) for k, v in by_readme.items()}
    demonstrations = ["accelsim export sqnxt99", "accelsim run sqnxt23 --buffer 64B", "accelsim hw validate typo.yaml",
                      "accelsim run --bogus", "accelsim sweep sqnxt23 --vary dram.bandwith=",
                      "'area<=1mm2'", "accelsim run sqnxt23 --depth 2,4,99999999,1"]
    for text in demonstrations:
        found = [e for e in EXAMPLES if text in e.command]
        assert found, f"no README example contains {text!r}"
        for example in found:
            errors = [line for line in example.shown if line.startswith("error:")]
            assert len(errors) == 1, f"{example.id} demonstrates an error: the README must show its one 'error:' line"


def test_commands_shown_but_not_run_are_quoted_for_bash_and_zsh() -> None:
    """The ``accelsim`` lines of ```bash blocks (calibration, clusters, GPUs) are not run here,
    but a reader pastes them too: no unquoted operator or glob character may reach the shell."""
    commands = [(readme, line, command) for readme in READMES for line, command in script_commands(readme)]
    assert len(commands) >= 3, commands  # the calibration command in both READMEs, the Dask and GPU scripts
    for readme, line, command in commands:
        words = split_words(command)
        operators = [w for w in words if isinstance(w, str)]
        globs = [w.text for w in words if not isinstance(w, str) and w.glob]
        assert not operators and not globs, f"{readme}:{line}: unquoted {operators or globs} in {command!r}"


def test_extract_joins_continuations_and_reads_indented_blocks() -> None:
    text = "\n".join([
        "text", "```console", "$ accelsim run a \\", "      --pe 8x8", "out 1", "...", "", "$ make x", "junk",
        "```", "- item", "  ```console", "  $ accelsim hw validate t.yaml", "  error: t.yaml:2: bad", "  ```",
        "$ accelsim outside a block",
    ])
    found = extract("X.md", text)
    assert [(e.line, e.command, e.shown) for e in found] == [
        (3, "accelsim run a --pe 8x8", ["out 1", "..."]),
        (13, "accelsim hw validate t.yaml", ["error: t.yaml:2: bad"]),
    ]
    assert found[1].shows_error and not found[0].shows_error


def test_shell_forms_run_as_bash_would_and_misreadings_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("")
    (tmp_path / "b.yaml").write_text("")
    assert parse("accelsim hw validate *.yaml x.yaml  # comment", tmp_path).argv == [
        "hw", "validate", "a.yaml", "b.yaml", "x.yaml"]
    assert parse("accelsim sweep s --vary 'dataflows=[ws],[os]' --budget \"a<=1\"", tmp_path).argv == [
        "sweep", "s", "--vary", "dataflows=[ws],[os]", "--budget", "a<=1"]
    piped = parse("accelsim validate | head -8", tmp_path)
    assert (piped.argv, piped.head) == (["validate"], 8)
    assert parse("accelsim run m --json > r.json", tmp_path).redirect == "r.json"
    assert parse("accelsim v | python -c \"print('x')\"", tmp_path).python == "print('x')"
    for bad in ("accelsim codesign s --budget area<=1mm2",          # bash: '<' redirects from a file '=1mm2'
                "accelsim sweep s --vary dataflows=[ws],[os]",      # zsh: no matches found
                "accelsim run $NET", "accelsim run a; rm -rf x", "accelsim v | grep x", "accelsim run 'open"):
        with pytest.raises(ShellFormError):
            parse(bad, tmp_path)


def test_shown_lines_match_in_order_with_elisions_and_volatile_timings() -> None:
    actual = ["head", "a", "b", "c", "priced 5 layers in 14.63 s; composed 9 points (417,292 points/s)", "tail"]
    assert mismatch(["head", "...", "c", "priced 5 layers in 0.1 s; composed 9 points (1 points/s)", "..."],
                    actual) is None
    assert mismatch(["head", "...", "tail"], actual) is None
    assert mismatch(["...", "b", "...", "tail"], actual) is None
    assert mismatch(["head", "b", "..."], actual) is not None            # a line left out without '...'
    assert mismatch(["head", "a", "b", "c"], actual) is not None          # output goes on past what is shown
    assert mismatch(["...", "b", "a", "..."], actual) is not None         # order matters
    assert mismatch(["cycles   1,425,487"], ["cycles   1,425,488"]) is not None  # numbers at printed precision
    assert mismatch(["1.624 ms at 878MHz"], ["1.625 ms at 878MHz"]) is not None  # simulated time is not volatile
