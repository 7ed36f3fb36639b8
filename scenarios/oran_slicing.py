"""``oran_slicing``: RBG allocation in a contested cell, and TRACTOR's two studies.

0. Contested allocation (``netsim/OranSlicing-v0``, the default): every baseline registered
   for the env (``envs.oran.baselines``: random, expert, mMTC-at-1-RBG, proportional, the
   best of all 120 fixed splits in hindsight, the one-step clairvoyant oracle, and MaskablePPO
   when ``contested_learned_timesteps > 0``) on the same ``contested_trials`` seeds. Reported
   per policy: mean reward per step with a 95 % t-interval, normalised (0 random, 1 oracle),
   per-slice scores, URLLC bits delivered within 10 ms, eMBB/mMTC queueing delay (Little).
   The hindsight search runs the 120 × trials episodes in one batched env.

1. Traffic classification: KPM windows (32 reports × 17 KPIs) of simulated UEs of every
   class train a scikit-learn random forest on window statistics and a small Transformer.
   Reported: offline accuracy and confusion matrix on held-out simulated cells (other seeds),
   accuracy on phone captures never seen in training (leave-one-capture-out folds), online
   accuracy with the classifier steering UEs to slices inside the simulation, and
   accuracy on the real TRACTOR and Colosseum KPM logs shipped in ``ran/slicing/data``.
2. TRACTOR's RBG allocation (``netsim/OranSlicing-TRACTOR-v0``, when ``tractor`` is on): for
   each user combination (mMTC, URLLC, eMBB), ``trials`` episodes per policy - random, expert
   (3, 5, 9), mmtc1 (towards (1, 8, 8)), tabular Q-learning and a learned policy (MaskablePPO or
   DQN through ``netsim.train``) - with common random numbers. A trial's score is its mean
   reward (the mean TRACTOR score over UEs and reports), with the per-slice TRACTOR scores
   beside it; across trials the mean, CV and TRACTOR's 90% interval (mean ± 1.645·s/√n).
   This setting is nearly degenerate (issue 13: the idle-mMTC score 1/slice_prb rewards mMTC
   at one RBG, and the cell is underloaded); it is kept to reproduce TRACTOR.

The gNB of parts 1-2 is configured by the nested ``ran`` (:class:`RanConfig`), the contested
cell by ``cell`` (:class:`CellConfig`).

Artefacts (in the run folder): ``contested_table.csv`` / ``.md``, ``contested.png``,
``rl_table.csv`` / ``rl_table.md``, ``classification.csv``,
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
from envs.oran import OranSlicingConfig
from envs.oran_tractor import OranSlicingTractorConfig
from envs.oran_vector import OranSlicingVectorEnv
from netsim import Config, RunContext, Scenario
from netsim.baselines import baselines_for
from netsim.plotting import new_figure, save_figure
from netsim.rng import derive_seed
from netsim.stats import t_interval
from netsim.tables import markdown_table
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
from ran.slicing.fluid import SPLITS
from ran.slicing.policies import TabularQ, expert_action
from ran.slicing.scenario import CellConfig, RanConfig, UserCount
from ran.slicing.scores import trial_statistics

__all__ = ["OranSlicingStudy", "run", "summarize", "plot", "SCENARIO"]

ENV_ID = "netsim/OranSlicing-TRACTOR-v0"
CONTESTED_ID = "netsim/OranSlicing-v0"
Policy = Literal["random", "expert", "mmtc1", "tabular", "learned"]
ContestedPolicy = Literal["random", "expert", "mmtc1", "proportional", "best_fixed", "oracle",
                          "maskable_ppo"]
Combo = tuple[UserCount, UserCount, UserCount]
SLICE_NAMES = ("mmtc", "urllc", "embb")


class OranSlicingStudy(Config):
    ran: RanConfig = Field(default_factory=RanConfig,
                           description="the TRACTOR gNB (users are set per combination)")
    cell: CellConfig = Field(default_factory=CellConfig, description="the contested cell")
    contested: bool = Field(True, description="run the contested allocation study")
    contested_policies: list[ContestedPolicy] = Field(
        default_factory=lambda: ["random", "expert", "mmtc1", "proportional", "best_fixed",
                                 "oracle"], min_length=1,
        description="registered baselines of netsim/OranSlicing-v0 to score",
    )
    contested_trials: int = Field(10, ge=2, le=1000, description="episodes per policy")
    contested_horizon_s: float = Field(20.0, gt=0, le=3600, description="seconds per episode")
    contested_learned_timesteps: int = Field(
        0, ge=0, le=10_000_000, description="MaskablePPO budget on the contested env (0 skips)"
    )
    tractor: bool = Field(True, description="run TRACTOR's allocation study")
    combos: list[Combo] = Field(
        default_factory=lambda: [(1, 2, 3), (3, 2, 3), (2, 2, 2), (1, 1, 5)], min_length=1,
        description="user combinations (mMTC, URLLC, eMBB)",
    )
    policies: list[Policy] = Field(
        default_factory=lambda: ["random", "expert", "tabular", "learned"], min_length=1
    )
    trials: int = Field(10, ge=2, le=1000, description="episodes per policy and combination")
    trial_s: float = Field(30.0, gt=0, le=3600, description="simulated seconds per trial")
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
        n = self.contested_horizon_s / 0.1
        if abs(n - round(n)) > 1e-9:
            raise ValueError("contested_horizon_s: must be a whole number of 0.1 s periods")
        return self

    def env_config(self, **extra) -> OranSlicingTractorConfig:
        """The TRACTOR env's config: the nested ``ran`` plus the study's episode settings."""
        base = {**self.ran.model_dump(), "kpm_obs": self.kpm_obs, "horizon": self.trial_s,
                "rbgs": None}
        return OranSlicingTractorConfig(**{**base, **extra})

    def contested_config(self) -> OranSlicingConfig:
        """The contested env's config: the nested ``cell`` and the episode length."""
        return OranSlicingConfig(**self.cell.model_dump(), horizon=self.contested_horizon_s)


# -- classification ----------------------------------------------------------------------------
def _classification(cfg: OranSlicingStudy, ctx: RunContext, rows: list, out: Path | None) -> None:
    train_runs = simulate_runs(derive_seed(ctx.seed, "cls", "train"), cfg.classify_train_runs,
                               cfg.classify_duration_s)
    test_runs = simulate_runs(derive_seed(ctx.seed, "cls", "test"), cfg.classify_test_runs,
                              cfg.classify_duration_s)
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
                             metric="accuracy", value=accuracy(y, pred), n=len(y)))
            if mode == "all":
                cm = confusion(y, pred)
                for i, j in np.ndindex(cm.shape):
                    rows.append(dict(part="classify", model=name, data="offline_all",
                                     metric="confusion", true=CLASS_NAMES[i],
                                     predicted=CLASS_NAMES[j], value=float(cm[i, j])))
        for k, traffic in enumerate(("trace", "commag")):
            res = online_evaluation(model.predict, derive_seed(ctx.seed, "online", k),
                                    cfg.online_duration_s, traffic=traffic)
            rows.append(dict(part="classify", model=name, data=f"online_{traffic}",
                             metric="accuracy", value=res["online_accuracy"],
                             n=res["decisions"]))
            rows.append(dict(part="classify", model=name, data=f"online_{traffic}",
                             metric="in_correct_slice", value=res["in_correct_slice"]))
        by_source: dict[str, list] = {}
        for source, fname, frame, label in real:
            w, y = report_windows(frame, label)
            pred = model.predict(w)
            by_source.setdefault(source, []).append((y, pred))
            rows.append(dict(part="classify", model=name, data=f"real_{source}", file=fname,
                             metric="accuracy", value=accuracy(y, pred), n=len(y)))
        for source, pairs in by_source.items():
            y = np.concatenate([p[0] for p in pairs])
            pred = np.concatenate([p[1] for p in pairs])
            rows.append(dict(part="classify", model=name, data=f"real_{source}", file="all",
                             metric="accuracy", value=accuracy(y, pred), n=len(y)))
            cm = confusion(y, pred)
            for i, j in np.ndindex(cm.shape):
                rows.append(dict(part="classify", model=name, data=f"real_{source}",
                                 metric="confusion", true=CLASS_NAMES[i],
                                 predicted=CLASS_NAMES[j], value=float(cm[i, j])))
    if cfg.classify_holdout_cells:
        folds = capture_holdout(lambda: StatsClassifier(seed=ctx.seed % (2**31)),
                                derive_seed(ctx.seed, "cls", "holdout"),
                                cfg.classify_holdout_cells, cfg.classify_test_runs,
                                cfg.classify_duration_s, cfg.classify_stride)
        for f in folds:
            rows.append(dict(part="classify", model="forest", data="unseen_capture",
                             file=f["held_out"], metric="accuracy", value=f["accuracy"],
                             n=f["n"]))
        rows.append(dict(part="classify", model="forest", data="unseen_capture", file="all",
                         metric="accuracy", value=float(np.mean([f["accuracy"] for f in folds])),
                         n=sum(f["n"] for f in folds)))
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
                                     for k, v in slices.items()}


def _policies(cfg: OranSlicingStudy, ctx: RunContext, out: Path) -> dict:
    """Factories ``env -> (obs -> action)`` of the studied policies (training them first)."""
    train_cfg = cfg.env_config(user_combos=[list(c) for c in cfg.combos])
    factories = {
        "random": lambda env: env.unwrapped.baseline_policies()["random"],
        "expert": lambda env: env.unwrapped.baseline_policies()["expert"],
        "mmtc1": lambda env: (lambda obs: expert_action(np.asarray(obs[3:6]).astype(int),
                                                        (1, 8, 8))),
    }
    if "tabular" in cfg.policies:
        agent = TabularQ()
        agent.train(lambda: gym.make(ENV_ID, config=train_cfg), cfg.tabular_episodes,
                    seed=derive_seed(ctx.seed, "tabular") % (2**31))
        np.savez_compressed(out / "tabular_q.npz", q=agent.q.astype(np.float32))
        factories["tabular"] = lambda env: (
            lambda obs: agent.greedy(obs, env.unwrapped.action_masks())
        )
    ctx.progress(0.55)
    if "learned" in cfg.policies:
        kwargs = ({"n_steps": 512, "batch_size": 128, "gamma": 0.95, "ent_coef": 0.01}
                  if cfg.learned_algo == "maskable_ppo" else {"gamma": 0.95})
        seed = derive_seed(ctx.seed, "learned") % (2**31)
        train(ENV_ID, cfg.learned_algo, cfg.learned_timesteps, cfg.learned_envs, seed=seed,
              out=out / "learned", env_config=train_cfg.model_dump(), eval_episodes=2,
              progress=False,
              algo_kwargs=kwargs)
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
                                 metric="trial_score", value=score))
                for k, v in slices.items():
                    rows.append(dict(part="rl", policy=policy, combo=name, trial=i,
                                     metric=f"trial_score_{k}", value=v))
            env.close()
        ctx.progress(0.8 + 0.2 * (ci + 1) / len(cfg.combos))


# -- contested allocation ---------------------------------------------------------------------
_EPISODE_KEYS = [f"score_{k}" for k in SLICE_NAMES] + ["delay_ms_mmtc", "delay_ms_embb",
                                                       "lost_kbit_urllc"]


def _contested_episode(env: gym.Env, act, seed: int) -> dict:
    """Mean reward per step and the per-slice KPIs (means over the episode's periods)."""
    obs, _ = env.reset(seed=seed)
    rewards, kpis, done = [], {k: [] for k in _EPISODE_KEYS}, False
    while not done:
        obs, r, term, trunc, info = env.step(act(obs))
        rewards.append(r)
        for k in _EPISODE_KEYS:
            kpis[k].append(info[k])
        done = term or trunc
    return {"reward": float(np.mean(rewards)), **{k: float(np.mean(v)) for k, v in kpis.items()}}


def _masked_predict(model, masks):
    """``obs -> action`` of a MaskablePPO model, deterministic, with the env's masks."""
    return lambda obs: int(model.predict(obs, deterministic=True, action_masks=masks())[0])


def _fixed_splits(cfg: OranSlicingStudy, seeds: list[int]) -> dict[int, list[dict]]:
    """Every fixed split on every seed, in one batched env (bit-identical to single envs):
    split index -> per-seed episode KPIs (reward and slice scores)."""
    env_cfg = cfg.contested_config()
    n_split, n_seed = len(SPLITS), len(seeds)
    vec = OranSlicingVectorEnv(n_split * n_seed, env_cfg)
    vec.reset(seed=[s for _ in range(n_split) for s in seeds])
    actions = np.repeat(np.arange(n_split), n_seed)
    total, scores = np.zeros(vec.num_envs), np.zeros((vec.num_envs, 3))
    for _ in range(env_cfg.n_steps):
        _, r, *_ = vec.step(actions)
        total += r
        scores += vec.cell.stats[:, 5]
    total /= env_cfg.n_steps
    scores /= env_cfg.n_steps
    return {a: [{"reward": float(total[a * n_seed + i]),
                 **{f"score_{k}": float(scores[a * n_seed + i, j])
                    for j, k in enumerate(SLICE_NAMES)}} for i in range(n_seed)]
            for a in range(n_split)}


def _contested(cfg: OranSlicingStudy, ctx: RunContext, rows: list, out: Path) -> None:
    seeds = [derive_seed(ctx.seed, "contested", i) % (2**31) for i in range(cfg.contested_trials)]
    registry = baselines_for(CONTESTED_ID)
    env = gym.make(CONTESTED_ID, config=cfg.contested_config())
    names = list(cfg.contested_policies)
    if cfg.contested_learned_timesteps and "maskable_ppo" not in names:
        names.append("maskable_ppo")
    for k, name in enumerate(names):
        b = registry[name]
        detail = ""
        if b.kind == "hindsight":
            per = _fixed_splits(cfg, seeds)
            best = max(per, key=lambda a: np.mean([x["reward"] for x in per[a]]))
            episodes = per[best]
            detail = "-".join(str(x) for x in SPLITS[best])
        elif b.kind == "learned":
            if not cfg.contested_learned_timesteps:
                continue
            seed = derive_seed(ctx.seed, "contested_learned") % (2**31)
            train(CONTESTED_ID, "maskable_ppo", cfg.contested_learned_timesteps, 4, seed=seed,
                  out=out / "contested_learned", env_config=cfg.contested_config().model_dump(),
                  eval_episodes=2, progress=False)
            model = load_algo("maskable_ppo").load(out / "contested_learned" / "model.zip",
                                                   device="cpu")
            act = _masked_predict(model, env.unwrapped.action_masks)
            episodes = [_contested_episode(env, act, s) for s in seeds]
        else:
            act = b.policy(env.unwrapped)
            episodes = [_contested_episode(env, act, s) for s in seeds]
        for i, ep in enumerate(episodes):
            for metric, value in ep.items():
                rows.append(dict(part="contested", policy=name, combo=b.kind, trial=i,
                                 file=detail, metric=metric, value=value))
        ctx.progress(0.1 * (k + 1) / len(names))
    env.close()


def contested_table(results: pd.DataFrame) -> pd.DataFrame:
    """Per policy: mean reward per step with its 95 % t-interval over trials, normalised
    (0 random, 1 oracle; the best policy where no oracle ran), and the per-slice KPIs."""
    con = results[results["part"] == "contested"]
    if con.empty:
        return pd.DataFrame()
    wide = con.pivot_table(index=["policy", "combo", "file", "rep", "trial"], columns="metric",
                           values="value", sort=False).reset_index()
    out = []
    for (policy, kind, detail), grp in wide.groupby(["policy", "combo", "file"], sort=False):
        mean, half = t_interval(grp["reward"].to_numpy())
        row = {"policy": policy, "kind": kind, "mean": mean, "ci_low": mean - half,
               "ci_high": mean + half, "n": len(grp)}
        for k in SLICE_NAMES:
            row[f"score_{k}"] = grp[f"score_{k}"].mean()
        for k in ("delay_ms_embb", "delay_ms_mmtc", "lost_kbit_urllc"):
            row[k] = grp[k].mean() if k in grp else np.nan
        row["detail"] = detail
        out.append(row)
    table = pd.DataFrame(out)
    ref = table.loc[table["kind"] == "oracle", "mean"]
    top = ref.max() if len(ref) else table["mean"].max()
    base = table.loc[table["policy"] == "random", "mean"]
    if len(base) and top > base.iloc[0]:
        table.insert(6, "normalised", (table["mean"] - base.iloc[0]) / (top - base.iloc[0]))
    return table


def run(cfg: OranSlicingStudy, ctx: RunContext) -> pd.DataFrame:
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(ctx.workdir) / f"rep{ctx.rep}" if ctx.workdir is not None else Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        if cfg.contested:
            _contested(cfg, ctx, rows, out)
        if cfg.classify:
            _classification(cfg, ctx, rows, out)
        if cfg.tractor:
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
    """The contested table, the TRACTOR RL table and the classification accuracies (mean over
    replications)."""
    parts = [contested_table(results).assign(part="contested", metric="reward")]
    if (results["part"] == "rl").any():
        parts.append(rl_table(results).assign(part="rl", metric="trial_score"))
    cls = results[(results["part"] == "classify") & (results["metric"] != "confusion")]
    if not cls.empty:
        acc = (cls.groupby(["model", "data", "file", "metric"], sort=False)["value"]
               .agg(["mean", "count"]).reset_index().rename(columns={"count": "n"}))
        parts.append(acc.assign(part="classify"))
    return pd.concat([p for p in parts if not p.empty], ignore_index=True)


_ORDER = ("random", "expert", "mmtc1", "tabular", "learned")


def _plot_contested(table: pd.DataFrame, out: Path) -> None:
    """``contested.png``: mean reward per policy with 95 % intervals, and per-slice scores."""
    fig = new_figure(9.0, 3.6)
    ax, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    x = np.arange(len(table))
    ax.bar(x, table["mean"], yerr=[table["mean"] - table["ci_low"],
                                   table["ci_high"] - table["mean"]], capsize=3)
    ax.set_xticks(x, table["policy"], rotation=30, fontsize=7)
    ax.set_ylabel("mean reward per 100 ms")
    lo = float(np.nanmin(table["ci_low"]))
    ax.set_ylim(max(0.0, lo - 0.05), 1.0)
    for k, name in enumerate(SLICE_NAMES):
        ax2.bar(x + (k - 1) * 0.27, table[f"score_{name}"], 0.27, label=name)
    ax2.set_xticks(x, table["policy"], rotation=30, fontsize=7)
    ax2.set_ylabel("slice score")
    ax2.legend(fontsize=7)
    save_figure(fig, out / "contested.png")


def plot(results: pd.DataFrame, cfg: OranSlicingStudy, out: Path) -> None:
    """``rl_scores.png`` (mean trial score with 90% intervals), ``rl_cv.png`` (CV) per policy
    and combination, ``confusion.png`` (offline and real confusion matrices); writes the
    tables ``rl_table.csv``/``.md`` and ``classification.csv`` too."""
    con = contested_table(results)
    if not con.empty:
        con.to_csv(out / "contested_table.csv", index=False)
        (out / "contested_table.md").write_text(markdown_table(con))
        _plot_contested(con, out)
    if not (results["part"] == "rl").any():
        _plot_classification(results, out)
        return
    table = rl_table(results)
    table.to_csv(out / "rl_table.csv", index=False)
    (out / "rl_table.md").write_text(markdown_table(table))
    combos = list(dict.fromkeys(table["combo"]))
    policies = [p for p in _ORDER if p in set(table["policy"])]
    width = 0.8 / max(len(policies), 1)
    for fname, col, label in (("rl_scores.png", "mean", "mean trial score"),
                              ("rl_cv.png", "cv", "CV of trial scores")):
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
                                               for c in combos])
        ax.set_xlabel("users (mMTC, URLLC, eMBB)")
        ax.set_ylabel(label)
        if col == "mean":
            lo = np.nanmin(table["ci90_low"].to_numpy(float))
            ax.set_ylim(max(0.0, lo - 0.05), min(1.0, np.nanmax(table["ci90_high"]) + 0.05))
        ax.legend(fontsize=8)
        ax.set_title(f"TRACTOR score per trial ({cfg.trials} trials, {cfg.trial_s:g} s each)")
        save_figure(fig, out / fname)
    _plot_classification(results, out)


def _plot_classification(results: pd.DataFrame, out: Path) -> None:
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
                 .reindex(index=CLASS_NAMES, columns=CLASS_NAMES).fillna(0).to_numpy())
            pd.DataFrame(m, index=CLASS_NAMES, columns=CLASS_NAMES).to_csv(
                out / f"confusion_{model}_{data}.csv"
            )
            share = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
            ax = fig.add_subplot(len(models), len(datasets), r * len(datasets) + c + 1)
            ax.imshow(share, vmin=0, vmax=1, cmap="Blues")
            for i, j in np.ndindex(share.shape):
                ax.text(j, i, f"{share[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if share[i, j] > 0.6 else "black")
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
    description="RAN slicing: contested RBG allocation, TRACTOR's classification and RL",
)
