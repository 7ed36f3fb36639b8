"""transport: collective communication on datacenter and WAN topologies - max-min fair flow
model, packet-level validation, ECMP / spraying / minimal-split single-path, fault-tolerant
collectives under churn.

Datacenter half (Addanki, Goyal & Marinos, "Challenging the Need for Packet Spraying in
Large-Scale Distributed Training", arXiv:2407.00550):

* :mod:`transport.maxmin` - ``max_min_rates(incidence, capacity_bps, *, demand_bps, weights)``,
  vectorised progressive filling (a pure function, reusable by any module);
* :mod:`transport.network` - directed links and equal-cost paths of leaf-spine / fat-tree;
  :mod:`transport.rails` - rail-optimised multi-NIC GPU clusters (NVLink servers, one NIC
  per GPU on its rail leaf) and the ToR-wired baseline;
* :mod:`transport.balancing` - ECMP, spraying, minimal split (König), adaptive, random;
* :mod:`transport.collectives` - ring / tree / Rabenseifner / hierarchical all-reduce,
  all-gather, reduce-scatter, all-to-all as steps and dependency DAGs;
* :mod:`transport.flowsim`, :mod:`transport.packetsim` - fluid and packet-level transports
  on the engine; :mod:`transport.roce` adds finite buffers, ECN, PFC, DCQCN and go-back-N
  to the packet mode; :mod:`transport.pathselect` adds per-hop ECMP (with polarisation),
  flowlets, adaptive spraying with a timed reorder buffer, and link failures to it;
  :mod:`transport.execute` runs a collective over any of them;
* :mod:`transport.chakra` - Chakra execution-trace replay (``scenarios/chakra_replay.py``);
* :mod:`transport.simulate` - ``simulate_collective`` (one run, all metrics);
  :mod:`transport.metrics`, :mod:`transport.background`, :mod:`transport.stepfluid` (a step's
  fluid evolution in closed loop, the min-congestion LP), :mod:`transport.routing` (the RL
  model behind ``netsim/CollectiveRouting-v0``), :mod:`transport.scenario` (config
  schema and fabric factory of the ``collective_transport`` study, which lives in
  ``scenarios/collective_transport.py``).

Fault-tolerant half: :mod:`transport.pccl`.
"""
