"""``oran_slicing``: TRACTOR's two studies on the simulated sliced gNB.

1. Traffic classification: KPM windows (32 reports × 17 KPIs) of simulated UEs of every
   class train a scikit-learn random forest on window statistics and a small Transformer.
   Reported: offline accuracy and confusion matrix on held-out simulated cells (other seeds),
   accuracy on phone captures never seen in training (leave-one-capture-out folds), online
   accuracy with the classifier steering UEs to slices inside the simulation, and
   accuracy on the real TRACTOR and Colosseum KPM logs shipped in ``ran/slicing/data``.
2. RBG allocation (``netsim/OranSlicing-v0``): for each user combination (mMTC, URLLC, eMBB),
   ``trials`` episodes per policy - random, expert (3, 5, 9), tabular Q-learning and a learned
   policy (MaskablePPO or DQN through ``netsim.train``) - with common random numbers (trial i
   of every policy has the same seed: same traffic, channel and initial split). A trial's
   score is its mean reward (the mean TRACTOR score over UEs and reports); across trials the
   mean, CV and TRACTOR's 90% interval (mean ± 1.645·s/√n).

Artefacts (in the run folder): ``rl_table.csv`` / ``rl_table.md``, ``classification.csv``,
``confusion_*.csv``, the trained models (``learned/``, ``tabular_q.npz``,
``transformer.pt``), and the figures ``rl_scores.png``, ``rl_cv.png``, ``confusion.png``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

import gymnasium as gym
import numpy as np
import pandas as pd
from pydantic import Field, model_validator

import envs  # noqa: F401 - registers the OranSlicing ids
from netsim import Config, RunContext, Scenario
from netsim.plotting import new_figure, save_figure
from netsim.rng import derive_seed
from netsim.train import load_algo, train
from ran.slicing.classify import (
    CLASS_NAMES,
    StatsClassifier,
    accuracy,
    capture_holdout,
    confusion,
    dataset,
    online_evaluation,
    real_samples,
    report_windows,
    simulate_runs,
)
from ran.slicing.policies import TabularQ
from ran.slicing.scenario import UserCount
from ran.slicing.scores import trial_statistics

__all__ = ["OranSlicingStudy", "run", "summarize", "plot", "SCENARIO"]

ENV_ID = "netsim/OranSlicing-TRACTOR-v0"
Policy = Literal["random", "expert", "tabular", "learned"]
Combo = tuple[UserCount, UserCount, UserCount]


class OranSlicingStudy(Config):
    combos: list[Combo] = Field(
        default_factory=lambda: [(1, 2, 3), (3, 2, 3), (2, 2, 2), (1, 1, 5)], min_length=1,
        description="user combinations (mMTC, URLLC, eMBB)",
    )  # fmt: skip
    policies: list[Policy] = Field(
        default_factory=lambda: ["random", "expert", "tabular", "learned"], min_length=1
    )
    trials: int = Field(10, ge=2, le=1000, description="episodes per policy and combination")
    trial_s: float = Field(30.0, gt=0, le=3600, description="simulated seconds per trial")
    traffic: Literal["trace", "commag"] = "trace"
    embb_rate_mbps: float = Field(1.0, ge=0, le=50)
    distance: Literal["close", "medium", "far", "mixed"] = "close"
    mobility: Literal["static", "mobile"] = "static"
    kpm_obs: bool = Field(False, description="per-slice KPM aggregates in the observation")
    tabular_episodes: int = Field(1000, ge=1, le=100_000)
    learned_algo: Literal["maskable_ppo", "dqn"] = "maskable_ppo"
    learned_timesteps: int = Field(100_000, ge=1_000, le=10_000_000)
    learned_envs: int = Field(4, ge=1, le=64, description="vectorised training envs")
    classify: bool = Field(True, description="run the classification study too")
    classify_train_runs: int = Field(32, ge=2, le=200, description="simulated cells for training")
    classify_test_runs: int = Field(4, ge=2, le=200, description="held-out simulated cells")
    classify_duration_s: float = Field(120.0, ge=10, le=3600, description="seconds per cell")
    classify_stride: int = Field(4, ge=1, le=32, description="reports between training windows")
    classify_holdout_cells: int = Field(
        16, ge=0, le=200, description="training cells per leave-one-capture-out fold (0 skips)"
    )
    transformer_epochs: int = Field(20, ge=0, le=200, description="0 skips the Transformer")
    online_duration_s: float = Field(120.0, ge=10, le=3600)

    @model_validator(mode="after")
    def _check(self):
        if any(sum(c) < 1 for c in self.combos):
            raise ValueError("combos: every combination needs at least one UE")
        if self.trial_s < 0.25:
            raise ValueError("trial_s: a trial needs at least one 0.25 s report")
        return self

    def env_config(self, **extra) -> dict:
        base = {"traffic": self.traffic, "embb_rate_mbps": self.embb_rate_mbps,
                "distance": self.distance, "mobility": self.mobility,
                "kpm_obs": self.kpm_obs, "horizon": self.trial_s, "rbgs": None}  # fmt: skip
        return {**base, **extra}


# -- classification ----------------------------------------------------------------------------
def _classification(cfg: OranSlicingStudy, ctx: RunContext, rows: list, out: Path | None) -> None:
    train_runs = simulate_runs(derive_seed(ctx.seed, "cls", "train"), cfg.classify_train_runs,
                               cfg.classify_duration_s)  # fmt: skip
    test_runs = simulate_runs(derive_seed(ctx.seed, "cls", "test"), cfg.classify_test_runs,
                              cfg.classify_duration_s)  # fmt: skip
    ctx.progress(0.1)
    x_tr, y_tr = dataset(train_runs, cfg.classify_stride)
    models = {"forest": StatsClassifier(seed=ctx.seed % (2**31)).fit(x_tr, y_tr)}
    if cfg.transformer_epochs:
        from ran.slicing.classify_torch import TransformerClassifier

        models["transformer"] = TransformerClassifier(
            seed=ctx.seed % (2**31), epochs=cfg.transformer_epochs
        ).fit(x_tr, y_tr)
        if out is not None:
            models["transformer"].save(out / "transformer.pt")
    ctx.progress(0.25)
    modes = {"all": test_runs, "trace": test_runs[0::2], "commag": test_runs[1::2]}
    real = real_samples()
    for name, model in models.items():
        for mode, runs in modes.items():
            x, y = dataset(runs, 1)
            pred = model.predict(x)
            rows.append(dict(part="classify", model=name, data=f"offline_{mode}",
                             metric="accuracy", value=accuracy(y, pred), n=len(y)))  # fmt: skip
            if mode == "all":
                cm = confusion(y, pred)
                for i, j in np.ndindex(cm.shape):
                    rows.append(dict(part="classify", model=name, data="offline_all",
                                     metric="confusion", true=CLASS_NAMES[i],
                                     predicted=CLASS_NAMES[j], value=float(cm[i, j])))  # fmt: skip
        for k, traffic in enumerate(("trace", "commag")):
            res = online_evaluation(model.predict, derive_seed(ctx.seed, "online", k),
                                    cfg.online_duration_s, traffic=traffic)  # fmt: skip
            rows.append(dict(part="classify", model=name, data=f"online_{traffic}",
                             metric="accuracy", value=res["online_accuracy"],
                             n=res["decisions"]))  # fmt: skip
            rows.append(dict(part="classify", model=name, data=f"online_{traffic}",
                             metric="in_correct_slice", value=res["in_correct_slice"]))  # fmt: skip
        by_source: dict[str, list] = {}
        for source, fname, frame, label in real:
            w, y = report_windows(frame, label)
            pred = model.predict(w)
            by_source.setdefault(source, []).append((y, pred))
            rows.append(dict(part="classify", model=name, data=f"real_{source}", file=fname,
                             metric="accuracy", value=accuracy(y, pred), n=len(y)))  # fmt: skip
        for source, pairs in by_source.items():
            y = np.concatenate([p[0] for p in pairs])
            pred = np.concatenate([p[1] for p in pairs])
            rows.append(dict(part="classify", model=name, data=f"real_{source}", file="all",
                             metric="accuracy", value=accuracy(y, pred), n=len(y)))  # fmt: skip
            cm = confusion(y, pred)
            for i, j in np.ndindex(cm.shape):
                rows.append(dict(part="classify", model=name, data=f"real_{source}",
                                 metric="confusion", true=CLASS_NAMES[i],
                                 predicted=CLASS_NAMES[j], value=float(cm[i, j])))  # fmt: skip
    if cfg.classify_holdout_cells:
        folds = capture_holdout(lambda: StatsClassifier(seed=ctx.seed % (2**31)),
                                derive_seed(ctx.seed, "cls", "holdout"),
                                cfg.classify_holdout_cells, cfg.classify_test_runs,
                                cfg.classify_duration_s, cfg.classify_stride)  # fmt: skip
        for f in folds:
            rows.append(dict(part="classify", model="forest", data="unseen_capture",
                             file=f["held_out"], metric="accuracy", value=f["accuracy"],
                             n=f["n"]))  # fmt: skip
        rows.append(dict(part="classify", model="forest", data="unseen_capture", file="all",
                         metric="accuracy", value=float(np.mean([f["accuracy"] for f in folds])),
                         n=sum(f["n"] for f in folds)))  # fmt: skip
    ctx.progress(0.4)


# -- RBG allocation ----------------------------------------------------------------------------
def _trial(env: gym.Env, act, seed: int) -> tuple[float, dict]:
    obs, _ = env.reset(seed=seed)
    rewards, slices = [], {"mmtc": [], "urllc": [], "embb": []}
    done = False
    while not done:
        obs, r, term, trunc, info = env.step(act(obs))
        rewards.append(r)
        for k in slices:
            slices[k].append(info.get(f"score_{k}", np.nan))
        done = term or trunc
    return float(np.mean(rewards)), {k: float(np.nanmean(v)) if np.isfinite(v).any() else np.nan
                                     for k, v in slices.items()}  # fmt: skip


def _policies(cfg: OranSlicingStudy, ctx: RunContext, out: Path) -> dict:
    """Factories ``env -> (obs -> action)`` of the studied policies (training them first)."""
    train_cfg = cfg.env_config(user_combos=[list(c) for c in cfg.combos])
    factories = {
        "random": lambda env: env.unwrapped.baseline_policies()["random"],
        "expert": lambda env: env.unwrapped.baseline_policies()["expert"],
    }
    if "tabular" in cfg.policies:
        agent = TabularQ()
        agent.train(lambda: gym.make(ENV_ID, config=train_cfg), cfg.tabular_episodes,
                    seed=derive_seed(ctx.seed, "tabular") % (2**31))  # fmt: skip
        np.savez_compressed(out / "tabular_q.npz", q=agent.q.astype(np.float32))
        factories["tabular"] = lambda env: (
            lambda obs: agent.greedy(obs, env.unwrapped.action_masks())
        )
    ctx.progress(0.55)
    if "learned" in cfg.policies:
        kwargs = ({"n_steps": 512, "batch_size": 128, "gamma": 0.95, "ent_coef": 0.01}
                  if cfg.learned_algo == "maskable_ppo" else {"gamma": 0.95})  # fmt: skip
        seed = derive_seed(ctx.seed, "learned") % (2**31)
        train(ENV_ID, cfg.learned_algo, cfg.learned_timesteps, cfg.learned_envs, seed=seed,
              out=out / "learned", env_config=train_cfg, eval_episodes=2, progress=False,
              algo_kwargs=kwargs)  # fmt: skip
        model = load_algo(cfg.learned_algo).load(out / "learned" / "model.zip", device="cpu")
        maskable = cfg.learned_algo == "maskable_ppo"

        def learned(env):
            def act(obs):
                kw = {"action_masks": env.unwrapped.action_masks()} if maskable else {}
                return int(model.predict(obs, deterministic=True, **kw)[0])

            return act

        factories["learned"] = learned
    ctx.progress(0.8)
    return {p: factories[p] for p in cfg.policies}


def _allocation(cfg: OranSlicingStudy, ctx: RunContext, rows: list, out: Path) -> None:
    factories = _policies(cfg, ctx, out)
    for ci, combo in enumerate(cfg.combos):
        seeds = [derive_seed(ctx.seed, "trial", *combo, i) % (2**31) for i in range(cfg.trials)]
        name = "-".join(str(c) for c in combo)
        for policy, factory in factories.items():
            env = gym.make(ENV_ID, config=cfg.env_config(users=list(combo)))
            act = factory(env)
            for i, s in enumerate(seeds):
                score, slices = _trial(env, act, s)
                rows.append(dict(part="rl", policy=policy, combo=name, trial=i,
                                 metric="trial_score", value=score))  # fmt: skip
                for k, v in slices.items():
                    rows.append(dict(part="rl", policy=policy, combo=name, trial=i,
                                     metric=f"trial_score_{k}", value=v))  # fmt: skip
            env.close()
        ctx.progress(0.8 + 0.2 * (ci + 1) / len(cfg.combos))


def run(cfg: OranSlicingStudy, ctx: RunContext) -> pd.DataFrame:
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(ctx.workdir) / f"rep{ctx.rep}" if ctx.workdir is not None else Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        if cfg.classify:
            _classification(cfg, ctx, rows, out)
        _allocation(cfg, ctx, rows, out)
    df = pd.DataFrame(rows)
    for col in ("part", "model", "data", "file", "true", "predicted", "policy", "combo"):
        if col not in df:
            df[col] = None
        df[col] = df[col].astype(object).where(df[col].notna(), "")
    for col in ("trial", "n"):
        if col not in df:
            df[col] = np.nan
        df[col] = df[col].astype(float)
    df["kind"] = np.where(df["metric"] == "confusion", "sample", "scalar")
    return df


# -- tables and figures ------------------------------------------------------------------------
def rl_table(results: pd.DataFrame) -> pd.DataFrame:
    """Per (policy, combination) and over all combinations: mean trial score, CV and 90%
    interval (TRACTOR's statistics), pooled over replications."""
    rl = results[(results["part"] == "rl") & (results["metric"] == "trial_score")]
    out = []
    for (policy, combo), grp in rl.groupby(["policy", "combo"], sort=False):
        out.append({"policy": policy, "combo": combo, **trial_statistics(grp["value"])})
    for policy, grp in rl.groupby("policy", sort=False):
        out.append({"policy": policy, "combo": "all", **trial_statistics(grp["value"])})
    return pd.DataFrame(out)


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """The RL table and the classification accuracies (mean over replications)."""
    table = rl_table(results).assign(part="rl", metric="trial_score")
    cls = results[(results["part"] == "classify") & (results["metric"] != "confusion")]
    acc = (cls.groupby(["model", "data", "file", "metric"], sort=False)["value"]
           .agg(["mean", "count"]).reset_index().rename(columns={"count": "n"}))  # fmt: skip
    return pd.concat([table, acc.assign(part="classify")], ignore_index=True)


_ORDER = ("random", "expert", "tabular", "learned")


def _markdown(table: pd.DataFrame) -> str:
    """A Markdown table (4 decimals)."""
    cells = [[f"{v:.4f}" if isinstance(v, float) else str(v) for v in row]
             for row in table.itertuples(index=False)]  # fmt: skip
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in cells]) + "\n"


def plot(results: pd.DataFrame, cfg: OranSlicingStudy, out: Path) -> None:
    """``rl_scores.png`` (mean trial score with 90% intervals), ``rl_cv.png`` (CV) per policy
    and combination, ``confusion.png`` (offline and real confusion matrices); writes the
    tables ``rl_table.csv``/``.md`` and ``classification.csv`` too."""
    table = rl_table(results)
    table.to_csv(out / "rl_table.csv", index=False)
    (out / "rl_table.md").write_text(_markdown(table))
    combos = list(dict.fromkeys(table["combo"]))
    policies = [p for p in _ORDER if p in set(table["policy"])]
    width = 0.8 / max(len(policies), 1)
    for fname, col, label in (("rl_scores.png", "mean", "mean trial score"),
                              ("rl_cv.png", "cv", "CV of trial scores")):  # fmt: skip
        fig = new_figure(8.0, 4.0)
        ax = fig.add_subplot()
        for k, pol in enumerate(policies):
            sub = table[table["policy"] == pol].set_index("combo").reindex(combos)
            x = np.arange(len(combos)) + (k - (len(policies) - 1) / 2) * width
            err = None
            if col == "mean":
                err = np.vstack([sub["mean"] - sub["ci90_low"], sub["ci90_high"] - sub["mean"]])
            ax.bar(x, sub[col], width, yerr=err, capsize=3, label=pol)
        ax.set_xticks(np.arange(len(combos)), [f"({c.replace('-', ',')})" if c != "all" else "all"
                                               for c in combos])  # fmt: skip
        ax.set_xlabel("users (mMTC, URLLC, eMBB)")
        ax.set_ylabel(label)
        if col == "mean":
            lo = np.nanmin(table["ci90_low"].to_numpy(float))
            ax.set_ylim(max(0.0, lo - 0.05), min(1.0, np.nanmax(table["ci90_high"]) + 0.05))
        ax.legend(fontsize=8)
        ax.set_title(f"TRACTOR score per trial ({cfg.trials} trials, {cfg.trial_s:g} s each)")
        save_figure(fig, out / fname)
    cls = results[results["part"] == "classify"]
    if cls.empty:
        return
    cls[cls["metric"] != "confusion"].to_csv(out / "classification.csv", index=False)
    cm = cls[cls["metric"] == "confusion"]
    models = list(dict.fromkeys(cm["model"]))
    datasets = list(dict.fromkeys(cm["data"]))
    fig = new_figure(3.0 * len(datasets), 3.0 * len(models))
    for r, model in enumerate(models):
        for c, data in enumerate(datasets):
            sub = cm[(cm["model"] == model) & (cm["data"] == data)]
            m = (sub.pivot_table(index="true", columns="predicted", values="value", aggfunc="sum")
                 .reindex(index=CLASS_NAMES, columns=CLASS_NAMES).fillna(0).to_numpy())  # fmt: skip
            pd.DataFrame(m, index=CLASS_NAMES, columns=CLASS_NAMES).to_csv(
                out / f"confusion_{model}_{data}.csv"
            )
            share = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
            ax = fig.add_subplot(len(models), len(datasets), r * len(datasets) + c + 1)
            ax.imshow(share, vmin=0, vmax=1, cmap="Blues")
            for i, j in np.ndindex(share.shape):
                ax.text(j, i, f"{share[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if share[i, j] > 0.6 else "black")  # fmt: skip
            ax.set_xticks(range(4), CLASS_NAMES, fontsize=7, rotation=30)
            ax.set_yticks(range(4), CLASS_NAMES, fontsize=7)
            acc = np.trace(m) / max(m.sum(), 1)
            ax.set_title(f"{model}: {data.replace('_', ' ')}\naccuracy {acc:.3f}", fontsize=8)
            if r == len(models) - 1:
                ax.set_xlabel("predicted", fontsize=7)
            if c == 0:
                ax.set_ylabel("true", fontsize=7)
    save_figure(fig, out / "confusion.png")


SCENARIO = Scenario(
    name="oran_slicing",
    schema=OranSlicingStudy,
    run=run,
    preset="scenarios:oran_slicing.yaml",
    plot=plot,
    summarize=summarize,
    description="TRACTOR: traffic classification and RL RBG allocation on a sliced gNB",
)
