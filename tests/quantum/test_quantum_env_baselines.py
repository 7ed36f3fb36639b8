"""Registered baselines of the quantum envs: every bound is pathwise (>= every policy on the
same seed), the heuristics run, and the nested QoS config of QuantumScheduling."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401 - registers the ids
from envs.quantum_scheduling import PRESETS, QuantumSchedulingEnv
from netsim.baselines import baselines_for
from netsim.evaluate import rollout


def _returns(env_id, seeds, **kw):
    env = gym.make(env_id, **kw)
    out = {}
    for name, b in baselines_for(env_id).items():
        if b.kind in ("random", "heuristic"):
            policy = b.policy(env.unwrapped)
            out[name] = [rollout(env, policy, s)[0] for s in seeds]
        elif b.kind == "oracle":
            out[name] = [b.episode(env.unwrapped, s) for s in seeds]
        elif b.kind == "hindsight":
            for c, f in b.candidates.items():
                out[c] = [rollout(env, f(env.unwrapped), s)[0] for s in seeds]
    return out


def test_entanglement_chain_herald_bound_is_pathwise():
    """No policy beats the herald bound on the same seed (it reads the links' streams)."""
    seeds = [0, 1, 2]
    r = _returns("netsim/EntanglementChain-v0", seeds, horizon=0.03)
    bound = np.asarray(r.pop("herald_bound"))
    assert set(r) >= {"random", "swap_asap", "swap_asap_cutoff", "cutoff_1.0ms"}
    for name, vals in r.items():
        assert np.all(np.asarray(vals) <= bound + 1e-9), name
    assert np.mean(r["swap_asap_cutoff"]) > np.mean(r["random"])


def test_herald_bound_replays_the_links_draws():
    """A repeater that never swaps blocks each link after its first herald (one pair per
    link), so every link spent exactly its first draw: the replayed K_1."""
    env = gym.make("netsim/EntanglementChain-v0", horizon=0.02).unwrapped
    env.reset(seed=3)
    while True:
        *_, term, trunc, _ = env.step(np.zeros(env.n_rep, dtype=np.int64))
        if term or trunc:
            break
    for link in env.chain.links:
        assert link.attempts == env.link_draws(link.index, 1)[0]


def test_herald_bound_with_parallel_attempts_is_pathwise():
    env = gym.make("netsim/EntanglementChain-v0", horizon=0.02, max_link_pairs=8,
                   comm_qubits=16).unwrapped
    env.reset(seed=3)
    bound_pairs = env.herald_bound() * env.decision_interval * 1e3
    while True:
        *_, term, trunc, _ = env.step(np.zeros(env.n_rep, dtype=np.int64))
        if term or trunc:
            break
    assert min(link.successes for link in env.chain.links) <= bound_pairs


def test_quantum_scheduling_knapsack_bound_is_pathwise():
    seeds = [0, 1, 2]
    for resource in ("network", "qubit"):
        r = _returns("netsim/QuantumScheduling-v0", seeds, horizon=2.0, resource=resource)
        bound = np.asarray(r.pop("knapsack_bound"))
        for name, vals in r.items():
            assert np.all(np.asarray(vals) <= bound + 1e-9), (resource, name)


def test_quantum_scheduling_nests_a_qos_config():
    env = QuantumSchedulingEnv(qos={"f_min": 0.7})
    q = env.qos_config
    assert q.f_min == 0.7 and q.demands == 8 and q.periods == [8, 16, 32]
    assert q.repeater.comm == 2 and q.repeater.storage == 3 and q.plan_creation == "end"
    light = QuantumSchedulingEnv(**PRESETS["light"]).qos_config
    assert light.demands == 6 and light.periods == [16, 32, 64]


@pytest.mark.parametrize("env_id", ["netsim/EntanglementChain-v0", "netsim/QuantumScheduling-v0"])
def test_registered_baselines_have_all_kinds(env_id):
    kinds = {b.kind for b in baselines_for(env_id).values()}
    assert {"random", "heuristic", "oracle", "learned"} <= kinds
