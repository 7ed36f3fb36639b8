"""The ``netsim`` command line: run, sweep, train, list, show, check.

Bad input (unknown key, wrong type, out-of-range value, missing file, unknown scenario or
env id, malformed option) prints one line ``error: ...`` on stderr and exits with code 2,
without a traceback and without touching the output folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from .errors import ConfigError

app = typer.Typer(
    name="netsim",
    help="Discrete-event network simulation: scenarios, sweeps and RL training.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", help="Override a config key: key=value (dotted keys nest)."),
]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Root seed (default: preset's).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
ForceOpt = Annotated[
    bool,
    typer.Option("--force", help="Replace an output folder holding results of another kind."),
]
PresetOpt = Annotated[
    str | None,
    typer.Option("--preset", "-p", help="Named preset (see 'netsim show NAME')."),
]
WorkersOpt = Annotated[int | None, typer.Option("--workers", "-w", help="Local processes.")]
SchedulerOpt = Annotated[
    str | None, typer.Option("--scheduler", help="Dask scheduler address tcp://HOST:PORT.")
]


def _echo_table(df, max_rows: int = 30) -> None:
    import pandas as pd

    with pd.option_context("display.width", 120, "display.max_columns", 12):
        typer.echo(df.head(max_rows).to_string(index=False))
    if len(df) > max_rows:
        typer.echo(f"... {len(df) - max_rows} more rows")


@app.command()
def run(
    scenario: Annotated[
        str | None, typer.Argument(help="Scenario name or YAML file (omit with --from).")
    ] = None,
    set_: SetOpt = None,
    seed: SeedOpt = None,
    reps: Annotated[int | None, typer.Option("--reps", help="Replications.")] = None,
    preset: PresetOpt = None,
    from_: Annotated[
        Path | None,
        typer.Option("--from", help="Repeat the run recorded in this manifest.json."),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Results folder.")] = None,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Run a scenario's replications; write results.parquet, summary.csv, manifest.json, PNGs."""
    from .runner import run_scenario
    from .scenario import resolve, resolve_manifest

    if from_ is not None:
        if scenario is not None or preset is not None:
            raise ConfigError("--from: give either a manifest or a scenario (and --preset)")
        resolved = resolve_manifest(from_, set_ or [], seed=seed, reps=reps)
    elif scenario is None:
        raise ConfigError("run needs a scenario name, a YAML file or --from MANIFEST")
    else:
        resolved = resolve(scenario, set_ or [], seed=seed, reps=reps, preset=preset)
    out = out or Path("results") / resolved.scenario.name
    _, summary = run_scenario(resolved, out, progress=not quiet, force=force)
    if not quiet:
        _echo_table(summary)
    typer.echo(f"results written to {out}")


@app.command()
def sweep(
    scenario: Annotated[str, typer.Argument(help="Scenario name or YAML file.")],
    grid: Annotated[
        list[str] | None,
        typer.Option(
            "--grid", "-g", help="Axis key=v1,v2,... (or lo:hi[:log|:int] with --random)."
        ),
    ] = None,
    random: Annotated[int | None, typer.Option("--random", help="Sample N random points.")] = None,
    reps: Annotated[int | None, typer.Option("--reps", help="Replications per point.")] = None,
    seed: SeedOpt = None,
    set_: SetOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Run only missing or failed runs.")
    ] = False,
    preset: PresetOpt = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Sweep folder.")] = None,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Run a scenario over a grid of parameters, locally or on a Dask cluster."""
    from .sweep import plan_sweep, run_sweep

    if workers is not None and scheduler is not None:
        raise ConfigError("--workers and --scheduler exclude each other")
    if resume and force:
        raise ConfigError("--resume and --force exclude each other")
    plan = plan_sweep(
        scenario, grid or [], reps=reps, seed=seed, sets=set_ or [], random=random, preset=preset
    )
    out = out or Path("results") / f"sweep-{plan.scenario}"
    report = run_sweep(
        plan, out, workers=workers, scheduler=scheduler, resume=resume, progress=not quiet,
        force=force,
    )
    typer.echo(
        f"{report.done} done, {report.failed} failed, {report.skipped} already present "
        f"of {report.total}; results in {report.out}"
    )
    if report.failed:
        typer.echo(f"failures recorded in {report.out / 'failures'}; rerun with --resume", err=True)
        raise typer.Exit(1)


@app.command()
def train(
    env_id: Annotated[str, typer.Argument(help="Env id, e.g. netsim/QueueAdmission-v0.")],
    algo: Annotated[str, typer.Option("--algo", help="ppo | dqn | a2c | maskable_ppo")] = "ppo",
    timesteps: Annotated[int, typer.Option("--timesteps", help="Training steps.")] = 20_000,
    n_envs: Annotated[int, typer.Option("--n-envs", help="Vectorised envs.")] = 4,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    set_: SetOpt = None,
    eval_episodes: Annotated[int, typer.Option("--eval-episodes")] = 10,
    subproc: Annotated[bool, typer.Option("--subproc", help="One process per env.")] = False,
    out: Annotated[Path | None, typer.Option("--out", "-o")] = None,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Train an SB3 agent; save the model, evaluation vs baselines and a learning curve."""
    from .config import apply_overrides
    from .train import train as do_train

    out = out or Path("results") / f"train-{env_id.split('/')[-1]}-{algo}"
    ev = do_train(
        env_id, algo, timesteps, n_envs, seed, out, apply_overrides({}, set_ or []),
        eval_episodes, subproc, progress=not quiet, force=force,
    )
    if not quiet:
        _echo_table(ev.groupby("policy", sort=False)["return"].agg(["mean", "std"]).reset_index())
    typer.echo(f"model and evaluation written to {out}")


@app.command("bench")
def bench_(
    env_ids: Annotated[
        list[str] | None, typer.Argument(help="Env ids (default: every registered env).")
    ] = None,
    seeds: Annotated[int, typer.Option("--seeds", help="Evaluation episodes per policy.")] = 10,
    seed: Annotated[int, typer.Option("--seed", help="Root seed of the episode seeds.")] = 0,
    skip_learned: Annotated[
        bool, typer.Option("--skip-learned", help="Do not train the learned agents.")
    ] = False,
    timesteps: Annotated[
        int | None, typer.Option("--timesteps", help="Training budget (default: each env's).")
    ] = None,
    set_: SetOpt = None,
    workers: WorkersOpt = 1,
    scheduler: SchedulerOpt = None,
    force: ForceOpt = False,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Leaderboard folder.")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Score random, heuristic, hindsight, oracle and learned policies of each env (common
    random numbers); write leaderboard.parquet/.md/.png and the contested check."""
    from .bench import BenchFailures, bench
    from .config import apply_overrides

    out = out or Path("results") / "bench"
    try:
        board, check = bench(
            env_ids or None, seeds, out, skip_learned=skip_learned, timesteps=timesteps,
            env_config=apply_overrides({}, set_ or []), seed=seed, workers=workers,
            scheduler=scheduler, force=force, progress=not quiet,
        )
    except BenchFailures as exc:
        typer.echo(f"error: {exc}; details in {out / 'failures.json'}", err=True)
        raise typer.Exit(1) from None
    if not quiet:
        cols = ["env", "policy", "kind", "mean", "ci_low", "ci_high", "normalised"]
        _echo_table(board[cols], max_rows=200)
        _echo_table(check[["env", "best_heuristic", "normalised", "contested", "note"]])
    typer.echo(f"leaderboard written to {out}")


@app.command("list")
def list_() -> None:
    """List scenarios and env ids."""
    from .registry import env_ids
    from .scenario import scenario_entry_points

    typer.echo("scenarios:")
    for name, ep in sorted(scenario_entry_points().items()):
        try:
            desc = ep.load().description
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not hide the others
            desc = f"(unavailable: {type(exc).__name__}: {exc})"
        typer.echo(f"  {name:24s} {desc}")
    typer.echo("envs:")
    for env_id in env_ids():
        typer.echo(f"  {env_id}")


@app.command()
def show(
    name: Annotated[str, typer.Argument(help="Scenario name, YAML file or env id.")],
    preset: PresetOpt = None,
) -> None:
    """Print the resolved default config as YAML, each key with its type, bounds, unit and
    description, and the presets that exist."""
    from .show import describe

    typer.echo(describe(name, preset=preset), nl=False)


@app.command()
def check(env_id: Annotated[str, typer.Argument(help="Env id to check.")]) -> None:
    """Run Gymnasium's and SB3's env checkers on an env."""
    import gymnasium as gym
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check

    from .registry import require_env_id

    env_id = require_env_id(env_id)
    check_env(gym.make(env_id).unwrapped, skip_render_check=False)
    sb3_check(gym.make(env_id).unwrapped)
    typer.echo(f"{env_id}: gymnasium and SB3 checks passed")


#: exceptions of the command-line parser: typer's own (vendored click) and, with older typer
#: releases, click's
_PARSER_ERRORS: tuple[type[Exception], ...] = (typer.TyperException,)
try:  # pragma: no cover - depends on the typer release
    import click
except ImportError:  # pragma: no cover - this typer vendors click and has no separate one
    click = None
if click is not None:
    _PARSER_ERRORS += (click.ClickException,)


def _parser_error_line(exc: Exception) -> str:
    """A parser error (bad option value, missing argument, unknown command) as one line."""
    msg = " ".join(exc.format_message().split())
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "netsim"
    return f"error: {msg} (see '{path} --help')"


def main(argv: list[str] | None = None) -> None:
    """Console entry point.

    Bad input - a ConfigError or a malformed command line - prints one line on stderr and
    exits with code 2; Ctrl-C prints ``interrupted`` and exits with 130. Output folders are
    left as they were in both cases (see :func:`netsim.results.atomic_output_dir`).
    """
    from .results import set_command_line

    os.environ.setdefault("MPLBACKEND", "Agg")
    args = sys.argv[1:] if argv is None else list(argv)
    set_command_line(["netsim", *args])
    if not args:  # bare `netsim`: the help text, exit code 2
        app(args=[], prog_name="netsim", standalone_mode=True)
    try:
        code = app(args=args, prog_name="netsim", standalone_mode=False)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except _PARSER_ERRORS as exc:
        if not hasattr(exc, "format_message"):  # an abort (Ctrl-C in older releases)
            code = 130
        else:
            print(_parser_error_line(exc), file=sys.stderr)
            sys.exit(getattr(exc, "exit_code", 2))
    except KeyboardInterrupt:
        code = 130
    if code == 130:  # typer turns Ctrl-C into exit code 130
        print("interrupted", file=sys.stderr)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
