"""``accelsim validate``: print the validation evidence with its sources.

    accelsim validate                 # the paper's two configurations
    accelsim validate --json          # one JSON object
    accelsim validate --hw my.yaml    # cells are compared where the spec's array and buffer are the paper's
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from accelsim.cli.common import HwListOption, cli_errors


@cli_errors
def validate(
    hws: HwListOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the evidence as one JSON object.")] = False,
    no_oracle: Annotated[bool, typer.Option("--no-oracle", help="Skip the brute-force oracle section.")] = False,
) -> None:
    """The evidence behind the numbers, with sources: the paper's Table 3 cells with in-sample and
    cross-validated errors, the Figure 6 statements, the brute-force oracle agreement and the
    peer (ZigZag) cross-check.

    Example: accelsim validate --json
    """
    from accelsim.cli.common import hardware_list_from_options
    from accelsim.reporting.validation import evidence, evidence_markdown

    specs = hardware_list_from_options(hws, default=("8x8", "16x16"))
    data = evidence(specs, with_oracle=not no_oracle)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        typer.echo(evidence_markdown(data))


def register(app: typer.Typer) -> None:
    """Add the ``validate`` command."""
    app.command("validate")(validate)
