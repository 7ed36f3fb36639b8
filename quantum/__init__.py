"""quantum: entanglement generation, swapping and distillation over quantum networks, QoS
scheduling (PTS and RCPSP) and capacity bounds (PLOB, repeater chains, lossy stations).

Physical layer and chains:

* :mod:`quantum.physics` - Werner / Bell-diagonal algebra, swap, BBPSSW, DEJMPS, decay,
  fibre loss and link success probabilities, and hardware imperfections: dark counts and
  dead time in heralding, multiplexed modes, noisy CNOTs and measurements in swap and
  distillation (pure functions);
* :mod:`quantum.bounds` - PLOB, repeater chains, network single-path and min-cut capacities,
  the lossy-station limit (pure functions);
* :mod:`quantum.hardware`, :mod:`quantum.protocols`, :mod:`quantum.chain` - heralded links,
  memories with decay and cutoff, swap-ASAP / nested swapping and distillation on the engine.

QoS scheduling (Skrzypczyk & Wehner, "An Architecture for Meeting Quality-of-Service
Requirements in Multi-User Quantum Networks", 2021):

* :mod:`quantum.topologies` - line, H, star, symm and SURFnet;
  :mod:`quantum.capabilities` - NV and futuristic link capability tables;
* :mod:`quantum.demands`, :mod:`quantum.protocol_search` - demands, routing, ESSS-like
  repeater-protocol search into task DAGs;
* :mod:`quantum.scheduling` - PTS / RCPSP schedulers, admission, CP-SAT optimum (engine-free);
* :mod:`quantum.qos` - executing schedules on the engine; :mod:`quantum.scenario` - config.

References: Pirandola et al., Nat. Commun. 8, 15043 (2017) (PLOB); Pirandola, Commun. Phys.
2, 51 (2019) and "Rate limits in quantum networks with lossy repeaters" (capacity bounds);
Wu et al., "SeQUeNCe: a customizable discrete-event simulator of quantum networks", Quantum
Sci. Technol. 6, 045027 (2021) (the peer simulator
compared in ``benchmarks/quantum_vs_sequence.py``).
"""
