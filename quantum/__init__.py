"""quantum: entanglement generation, swapping and distillation over quantum networks, QoS
scheduling (PTS and RCPSP) and capacity bounds (PLOB, repeater chains, lossy stations)."""
