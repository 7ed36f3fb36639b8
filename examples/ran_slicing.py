"""A sliced gNB with your own traffic mix, run on the engine; then the contested slicing env.

Three eMBB UEs stream CBR video at 4 Mbit/s, two URLLC UEs send Poisson packets, one mMTC
UE idles; the gNB reports KPMs every 250 ms and we score the slices with TRACTOR's scores.
Then one episode of ``netsim/OranSlicing-v0`` with the proportional rule against a fixed
split. ``NETSIM_EXAMPLE_QUICK=1`` runs a small size.
"""

import os

import gymnasium as gym
import numpy as np

import envs  # noqa: F401 - registers the netsim envs
from envs.oran import proportional_split
from netsim import Simulation
from ran.slicing import SlicingGnb, UeSpec, ue_scores
from ran.slicing.fluid import split_index
from ran.slicing.scores import slice_means
from ran.slicing.traffic import UeTraffic

QUICK = os.environ.get("NETSIM_EXAMPLE_QUICK") == "1"
seconds = 2.0 if QUICK else 20.0

video = UeTraffic("embb", dl="cbr", dl_rate=4.0, dl_packet_bytes=1400)
alarms = UeTraffic("urllc", dl="poisson", dl_rate=200.0, dl_packet_bytes=300)
ues = [UeSpec("embb", "close", traffic=video)] * 2 + [UeSpec("embb", "far", traffic=video)]
ues += [UeSpec("urllc", "medium", traffic=alarms)] * 2 + [UeSpec("mmtc", "close")]

sim = Simulation(seed=7)
gnb = SlicingGnb(sim, ues, rbgs=(2, 5, 10), policies=("rr", "rr", "pf"), traffic="commag",
                 keep_reports=True)
sim.run(until=seconds)
per_slice = np.nanmean([slice_means(ue_scores(r, gnb.slice_of), gnb.slice_of)
                        for r in gnb.reports], axis=0)
print(f"{len(gnb.reports)} KPM reports; TRACTOR score per slice (mMTC, URLLC, eMBB):",
      np.round(per_slice, 3))

env = gym.make("netsim/OranSlicing-v0", horizon=seconds)
for name, act in [("fixed (3, 5, 9)", lambda _o: split_index((3, 5, 9))),
                  ("proportional", proportional_split)]:
    obs, _ = env.reset(seed=1)
    total, done = 0.0, False
    while not done:
        obs, reward, term, trunc, info = env.step(act(obs))
        total, done = total + reward, term or trunc
    print(f"OranSlicing-v0 {name:16s} return {total:7.2f}  URLLC on time {info['score_urllc']:.2f}")
