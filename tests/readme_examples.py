"""The ``$ accelsim ...`` examples of README.md and hwconfigs/README.md: found, run, compared.

Used by ``tests/test_readme_examples.py``, and runnable on its own to print what each example
prints now, for pasting into a README after the model's numbers change (it never edits a README):

    .venv/bin/python tests/readme_examples.py --list              # every example, file:line
    .venv/bin/python tests/readme_examples.py --show [SUBSTRING]  # run them (those matching) and print

An *example* is a line ``$ accelsim ...`` inside a fenced code block (indented blocks too), joined
with the lines its trailing ``\\`` continues onto. The lines after it, up to the next ``$`` line or
the end of the block, are the output the README *shows*. A shown line that is exactly ``...``
stands for any number of actual lines (an elision); every other shown line must equal an actual
line, in order, character for character after trailing blanks are dropped, except for the few
wall-clock figures ``VOLATILE`` names (a run's seconds and images per second). The README
implies the exit status: an example that shows a line starting ``error:`` demonstrates bad input
and must exit 2 with exactly that one line on stderr; every other example must exit 0.

Examples run in this process through typer's ``CliRunner`` (``accelsim.cli.app``, the entry
point the ``accelsim`` script calls), in the current directory. The few shell forms the READMEs
use are emulated here as bash would run them, and anything else is refused, so an example that a
shell would misread fails instead of passing by accident:

- words split on blanks, with ``'...'``, ``"..."`` and ``\\`` quoting; ``#`` at a word's start
  begins a comment;
- an unquoted glob (``*``, ``?``, ``[...]``) expands to the sorted matching paths; a glob that
  matches nothing is an error (zsh refuses it; bash would pass the pattern on as text), so a
  value like ``dataflows=[ws]`` must be quoted;
- ``> FILE`` sends stdout to FILE (stderr still shows);
- ``| head -N`` keeps stdout's first N lines; ``| python -c CODE`` runs CODE on stdout with this
  interpreter (the worktree's .venv python, the ``python`` on its PATH);
- any other metacharacter (``<``, ``;``, ``&``, ``(``, ``)``, ``$``, backquote, ``{``) unquoted is
  an error: it would not reach accelsim as the README means it.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READMES = ("README.md", "hwconfigs/README.md")

#: Wall-clock figures in the outputs, the only text compared loosely: (pattern, what replaces it
#: in both the shown and the actual line). Simulated times (``1.624 ms at 878MHz``) are not here.
VOLATILE: tuple[tuple[str, str], ...] = (
    (r"\bin \d[\d,]*(?:\.\d+)? s\b", "in <seconds> s"),                    # priced ... in 14.63 s
    (r"\(\d[\d,]*(?:\.\d+)? points/s\)", "(<rate> points/s)"),             # composed ... (417,292 points/s)
    (r"\| *\d[\d,]*(?:\.\d+)? img/s", "| <rate> img/s"),                   # training epochs
    (r"\d[\d,]*(?:\.\d+)? img/s total", "<rate> img/s total"),             # --throughput
    (r"\d[\d,]*(?:\.\d+)? img/s per rank", "<rate> img/s per rank"),
    (r"\d[\d,]*(?:\.\d+)?(?: ms| s)/step", "<seconds>/step"),
)


#: Actual lines left out before comparing: the last frame of a transient progress bar, which a
#: terminal erases but captured output keeps (``train``'s per-epoch bar).
TRANSIENT = re.compile(r"^epoch \d+/\d+ [━╸╺ ]+ \d+/\d+ ")


class ShellFormError(ValueError):
    """An example uses a shell form this emulation does not run (or a shell would misread)."""


@dataclass
class Example:
    """One ``$ accelsim`` line of a README, with the output shown under it."""

    readme: str                 # "README.md" or "hwconfigs/README.md"
    line: int                   # 1-based line of the ``$``
    command: str                # the command after ``$ ``, continuations joined
    shown: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.readme}:{self.line}"

    @property
    def shows_error(self) -> bool:
        return any(line.startswith("error:") for line in self.shown)


def extract(readme: str, text: str | None = None) -> list[Example]:
    """Every ``$ accelsim`` example of ``readme`` (a path relative to the repository root)."""
    lines = (text if text is not None else (ROOT / readme).read_text()).splitlines()
    examples: list[Example] = []
    fence: str | None = None          # the indentation of the open fence
    current: Example | None = None
    i = 0
    while i < len(lines):
        raw = lines[i]
        stripped = raw.strip()
        if stripped.startswith("```"):
            if fence is None:
                fence = raw[: len(raw) - len(raw.lstrip())]
            else:
                fence, current = None, None
            i += 1
            continue
        if fence is None:
            i += 1
            continue
        body = raw[len(fence):] if raw.startswith(fence) else raw.lstrip()
        if body.startswith("$ "):
            start, command = i, body[2:]
            while command.rstrip().endswith("\\") and i + 1 < len(lines):
                i += 1
                command = command.rstrip()[:-1].rstrip() + " " + lines[i].strip()
            current = None
            if command.split()[:1] == ["accelsim"]:
                current = Example(readme, start + 1, command.strip())
                examples.append(current)
        elif current is not None:
            current.shown.append(body.rstrip())
        i += 1
    for example in examples:
        while example.shown and not example.shown[-1]:
            example.shown.pop()
    return examples


def script_commands(readme: str, text: str | None = None) -> list[tuple[int, str]]:
    """``accelsim ...`` lines of ```bash blocks (set-up scripts shown, not run here: calibration,
    clusters, GPUs), continuations joined, with their 1-based line numbers."""
    lines = (text if text is not None else (ROOT / readme).read_text()).splitlines()
    found: list[tuple[int, str]] = []
    in_bash = False
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if stripped.startswith("```"):
            in_bash = not in_bash and stripped == "```bash"
        elif in_bash and stripped.split()[:1] == ["accelsim"]:
            start, command = i, stripped
            while command.endswith("\\") and i + 1 < len(lines):
                i += 1
                command = command[:-1].rstrip() + " " + lines[i].strip()
            found.append((start + 1, command))
        i += 1
    return found


def all_examples() -> list[Example]:
    return [example for readme in READMES for example in extract(readme)]


# -- the shell forms --------------------------------------------------------------------------

_OPERATORS = "|><;&()"
_FORBIDDEN = "$`{}"


@dataclass
class Word:
    text: str
    glob: bool = False    # has an unquoted *, ? or [


def split_words(command: str) -> list[Word | str]:
    """Words and operators (``|``, ``>``, ...) of one command line, as bash splits them."""
    out: list[Word | str] = []
    word: list[str] | None = None
    has_glob = False
    i = 0
    n = len(command)
    while i < n:
        ch = command[i]
        if ch in " \t":
            if word is not None:
                out.append(Word("".join(word), has_glob))
                word, has_glob = None, False
            i += 1
            continue
        if ch == "#" and word is None:
            break
        if ch in _OPERATORS:
            if word is not None:
                out.append(Word("".join(word), has_glob))
                word, has_glob = None, False
            out.append(ch)
            i += 1
            continue
        if ch in _FORBIDDEN:
            raise ShellFormError(f"unquoted {ch!r}: the shell would expand it; quote it")
        word = [] if word is None else word
        if ch == "'":
            end = command.find("'", i + 1)
            if end < 0:
                raise ShellFormError("unterminated single quote")
            word.append(command[i + 1:end])
            i = end + 1
        elif ch == '"':
            j = i + 1
            while j < n and command[j] != '"':
                if command[j] == "\\" and j + 1 < n and command[j + 1] in '"\\$`':
                    j += 1
                elif command[j] in "$`":
                    raise ShellFormError(f"{command[j]!r} inside double quotes: the shell would expand it")
                word.append(command[j])
                j += 1
            if j >= n:
                raise ShellFormError("unterminated double quote")
            i = j + 1
        elif ch == "\\":
            if i + 1 < n:
                word.append(command[i + 1])
            i += 2
        else:
            if ch in "*?[":
                has_glob = True
            word.append(ch)
            i += 1
    if word is not None:
        out.append(Word("".join(word), has_glob))
    return out


@dataclass
class Pipeline:
    argv: list[str]                       # accelsim's arguments (without "accelsim")
    redirect: str | None = None           # > FILE
    head: int | None = None               # | head -N
    python: str | None = None             # | python -c CODE


def parse(command: str, cwd: Path) -> Pipeline:
    """The example as accelsim's argv and the shell forms around it (globs expanded in ``cwd``)."""
    tokens = split_words(command)
    stages: list[list[Word]] = [[]]
    redirect: str | None = None
    k = 0
    while k < len(tokens):
        token = tokens[k]
        if token == "|":
            stages.append([])
        elif token == ">":
            if k + 1 >= len(tokens) or not isinstance(tokens[k + 1], Word) or k + 2 != len(tokens):
                raise ShellFormError("'>' must be followed by one file name, at the end of the line")
            redirect = tokens[k + 1].text
            k += 1
        elif isinstance(token, str):
            raise ShellFormError(f"unquoted {token!r}: the shell would read it as an operator; quote it")
        else:
            stages[-1].append(token)
        k += 1
    if redirect is not None and len(stages) > 1:
        raise ShellFormError("both '>' and '|' on one line")
    argv: list[str] = []
    for word in stages[0][1:]:
        if word.glob:
            matches = sorted(glob.glob(word.text, root_dir=cwd))
            if not matches:
                raise ShellFormError(f"no matches found: {word.text} (quote it if it is not a file pattern)")
            argv.extend(matches)
        else:
            argv.append(word.text)
    pipeline = Pipeline(argv, redirect)
    for stage in stages[1:]:
        words = [w.text for w in stage]
        if any(w.glob for w in stage):
            raise ShellFormError(f"unquoted glob in {' '.join(words)!r}")
        if len(words) == 2 and words[0] == "head" and re.fullmatch(r"-\d+", words[1]):
            pipeline.head = int(words[1][1:])
        elif len(words) == 3 and words[0] == "python" and words[1] == "-c":
            pipeline.python = words[2]
        else:
            raise ShellFormError(f"unsupported pipe stage {' '.join(words)!r} (supported: head -N, python -c CODE)")
    if len(stages) > 2:
        raise ShellFormError("more than one '|'")
    return pipeline


# -- the files the examples read -------------------------------------------------------------

#: The typo ``accelsim hw validate typo.yaml`` demonstrates: line 2 misspells a DRAM field.
TYPO_YAML = "dram:\n  bandwith: 32GB/s\n"

#: ``my_images/``: an image folder as README.md's training section describes it (``train/`` and
#: ``val/``, one sub-folder per class), with this many classes and images per class and split.
IMAGE_CLASSES, IMAGES_PER_CLASS = 10, 2


def readme_yaml(name: str) -> str:
    """The YAML block of README.md whose first line is ``# NAME: ...`` (the README defines the file)."""
    text = (ROOT / "README.md").read_text()
    for block in re.findall(r"```yaml\n(.*?)```", text, flags=re.S):
        if block.startswith(f"# {name}:"):
            return block
    raise LookupError(f"README.md has no ```yaml block starting '# {name}:'")


def make_fixtures(where: Path) -> None:
    """The files the examples refer to, in ``where`` (the directory they run in)."""
    import numpy as np
    from PIL import Image

    spec = "my_specs/8x8_fast_dram.yaml"
    (where / spec).parent.mkdir(parents=True, exist_ok=True)
    (where / spec).write_text(readme_yaml(spec))
    hw_readme = (ROOT / "hwconfigs" / "README.md").read_text()
    assert readme_yaml(spec) in hw_readme, f"README.md and hwconfigs/README.md define {spec} differently"
    (where / "typo.yaml").write_text(TYPO_YAML)
    (where / "hwconfigs" / "calibration").mkdir(parents=True, exist_ok=True)
    for path in [*(ROOT / "hwconfigs").glob("*.yaml"), *(ROOT / "hwconfigs" / "calibration").glob("*.csv")]:
        target = where / path.relative_to(ROOT)
        target.write_bytes(path.read_bytes())
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for label in range(IMAGE_CLASSES):
            folder = where / "my_images" / split / f"class{label}"
            folder.mkdir(parents=True, exist_ok=True)
            for k in range(IMAGES_PER_CLASS):
                pixels = rng.integers(0, 256, size=(24, 24, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{k}.png")


#: Options whose value is a file or folder the example writes.
OUTPUT_OPTIONS = ("-o", "--out", "--csv", "--plot")


def outputs(example: Example, cwd: Path) -> list[str]:
    """The paths ``example`` writes (``-o``, ``--out``, ``--csv``, ``--plot``, ``> FILE``)."""
    pipeline = parse(example.command, cwd)
    found = [value for option, value in zip(pipeline.argv, pipeline.argv[1:], strict=False)
             if option in OUTPUT_OPTIONS]
    return found + ([pipeline.redirect] if pipeline.redirect else [])


def producers(examples: list[Example], index: int, cwd: Path) -> list[int]:
    """Indices of the earlier examples that write a path example ``index`` reads (transitively)."""
    written: dict[str, int] = {}
    for j in range(index):
        for path in outputs(examples[j], cwd):
            written.setdefault(path.rstrip("/"), j)
    needed = {written[arg.rstrip("/")] for arg in parse(examples[index].command, cwd).argv
              if arg.rstrip("/") in written and arg not in outputs(examples[index], cwd)}
    order: set[int] = set()
    for j in needed:
        order |= {j, *producers(examples, j, cwd)}
    return sorted(order)


# -- running ----------------------------------------------------------------------------------


@contextlib.contextmanager
def one_torch_thread():
    """Run torch on one thread, as the README's training transcripts were recorded.

    A convolution's sums run in another order on another thread count, so the losses printed
    after a few steps differ between 1 and 2 threads; one thread also keeps a shared 2-core
    machine from thrashing (7 to 15 times faster here under load).
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@contextlib.contextmanager
def shared_layer_costs():
    """Price each distinct layer once for all the examples run inside this block.

    Every command makes its own ``SimCache``, so many examples price the same layers on the same
    specs again (each ``run`` also prices the calibration ensemble's members for its band). This
    memoises the pure function under the cache, ``accelsim.simulation._cost(layer, work, spec,
    dataflow, cache, ...)``, keyed by everything its result depends on (the work, the spec's cost
    key, the dataflow; the rest are the cache and its speed-up keys),
    and replays the tiling-candidate count it adds to the cache. Each command's own cache still
    sees its misses and hits as in a fresh process, so every printed number, cache counts
    included, is what the command prints alone; only the time differs. Infeasible layers raise
    and are not memoised.
    """
    import inspect

    from accelsim import simulation

    original = simulation._cost
    signature = inspect.signature(original)
    memo: dict[tuple, tuple] = {}

    def cost(*args, **kwargs):
        given = signature.bind(*args, **kwargs).arguments  # by name: work, spec, dataflow, cache (+ any speed-up key)
        cache = given["cache"]
        key = (given["work"], simulation.spec_key(given["spec"]), given["dataflow"])
        hit = memo.get(key)
        if hit is None:
            before = cache.candidates
            result = original(*args, **kwargs)
            hit = memo[key] = (result, cache.candidates - before)
        else:
            cache.candidates += hit[1]
        return hit[0]

    simulation._cost = cost
    try:
        yield memo
    finally:
        simulation._cost = original



@dataclass
class Outcome:
    exit_code: int
    stdout: str          # what reaches the terminal from stdout (after head / python; "" if redirected)
    stderr: str
    seconds: float
    exception: BaseException | None = None

    @property
    def lines(self) -> list[str]:
        """What the terminal shows: stdout's lines, then stderr's."""
        return [line.rstrip() for line in (self.stdout + self.stderr).splitlines() if not TRANSIENT.match(line)]


def run(example: Example, cwd: Path) -> Outcome:
    """Run one example in ``cwd`` (which must be the current directory) and capture it."""
    from typer.testing import CliRunner

    from accelsim.cli import app

    pipeline = parse(example.command, cwd)
    start = time.perf_counter()
    result = CliRunner().invoke(app, pipeline.argv, catch_exceptions=True)
    seconds = time.perf_counter() - start
    stdout = result.stdout
    if pipeline.redirect is not None:
        (cwd / pipeline.redirect).write_text(stdout)
        stdout = ""
    elif pipeline.head is not None:
        stdout = "".join(stdout.splitlines(keepends=True)[: pipeline.head])
    elif pipeline.python is not None:
        piped = subprocess.run([sys.executable, "-c", pipeline.python], input=stdout, capture_output=True,
                               text=True, cwd=cwd, timeout=60)
        stdout = piped.stdout + piped.stderr
        if piped.returncode != 0:
            stdout += f"[python -c exited {piped.returncode}]\n"
    exception = result.exception if not isinstance(result.exception, SystemExit) else None
    return Outcome(result.exit_code, stdout, result.stderr, seconds, exception)


def _normalise(line: str) -> str:
    for pattern, replacement in VOLATILE:
        line = re.sub(pattern, replacement, line)
    return line.rstrip()


def mismatch(shown: list[str], actual: list[str]) -> str | None:
    """None if ``actual`` matches ``shown`` (``...`` lines elide any number of lines), else why."""
    want = [_normalise(line) for line in shown]
    got = [_normalise(line) for line in actual]

    def match(i: int, j: int) -> int | None:
        """Index into ``want`` of the first line that cannot be matched from (i, j), None if all can."""
        while i < len(want):
            if want[i] == "...":
                if i + 1 == len(want):
                    return None
                worst = i + 1
                for k in range(j, len(got) + 1):
                    failed = match(i + 1, k)
                    if failed is None:
                        return None
                    worst = max(worst, failed)
                return worst
            if j >= len(got) or want[i] != got[j]:
                return i
            i, j = i + 1, j + 1
        return None if j == len(got) else len(want)

    failed = match(0, 0)
    if failed is None:
        return None
    if failed >= len(want):
        return "the output goes on after the last line shown (end the shown output with '...')"
    close = [line for line in got if line.split()[:2] == want[failed].split()[:2]] if want[failed].split() else []
    hint = f"\n  actual line(s) starting alike: {close[:3]!r}" if close else ""
    return f"shown line {failed + 1} not in the output where expected:\n  {shown[failed]!r}{hint}"


def check(example: Example, outcome: Outcome) -> list[str]:
    """The ways ``outcome`` differs from what the README shows (empty if none)."""
    problems: list[str] = []
    if outcome.exception is not None:
        problems.append(f"raised {type(outcome.exception).__name__}: {outcome.exception}")
    errors = [line for line in outcome.stderr.splitlines() if line.startswith("error:")]
    if example.shows_error:
        if outcome.exit_code != 2:
            problems.append(f"the README shows an error, so exit status 2 is expected; got {outcome.exit_code}")
        if outcome.stderr.splitlines() != errors or len(errors) != 1:
            problems.append(f"expected exactly one line 'error: ...' on stderr; got {outcome.stderr.splitlines()!r}")
    else:
        if outcome.exit_code != 0:
            problems.append(f"exit status {outcome.exit_code}; stderr: {outcome.stderr.strip()!r}")
        if errors:
            problems.append(f"prints an error the README does not show: {errors!r}")
    why = mismatch(example.shown, outcome.lines) if example.shown else None
    if why:
        problems.append(why)
    return problems


def report(example: Example, outcome: Outcome, problems: list[str]) -> str:
    """A failure message: the command, what the README shows, what it prints now."""
    lines = [f"{example.id}: $ {example.command}", *problems, "", "README shows:"]
    lines += [f"  {line}" for line in example.shown] or ["  (no output)"]
    lines += [f"it prints now (exit {outcome.exit_code}; `python tests/readme_examples.py --show '{example.id}'`):"]
    lines += [f"  {line}" for line in outcome.lines] or ["  (no output)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="list the examples")
    parser.add_argument("--show", action="store_true", help="run the examples and print their output")
    parser.add_argument("--skip", action="append", default=[], help="leave out examples containing this")
    parser.add_argument("match", nargs="?", default="", help="only examples whose id or command contain this")
    args = parser.parse_args(argv)
    examples = all_examples()
    chosen = [i for i, e in enumerate(examples) if (args.match in e.id or args.match in e.command)
              and not any(s in e.id or s in e.command for s in args.skip)]
    if not args.show:
        for i in chosen:
            print(f"{examples[i].id}: $ {examples[i].command}")
        return 0
    import os
    import tempfile

    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory(prefix="readme-examples-") as tmp:
        cwd = Path(tmp)
        make_fixtures(cwd)
        os.chdir(cwd)
        stack.enter_context(shared_layer_costs())
        stack.enter_context(one_torch_thread())
        done: set[int] = set()
        for i in chosen:
            for j in [*producers(examples, i, cwd), i]:
                if j in done:
                    continue
                done.add(j)
                example = examples[j]
                print(f"{example.id}: $ {example.command}{'' if j == i else '   (needed by a later example)'}")
                outcome = run(example, cwd)
                for line in outcome.lines:
                    print(f"    {line}")
                problems = check(example, outcome)
                status = "matches the README" if not problems else "; ".join(p.splitlines()[0] for p in problems)
                print(f"    [exit {outcome.exit_code}, {outcome.seconds:.2f} s: {status}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
