"""transport: collective communication on datacenter and WAN topologies - max-min fair flow
model, packet-level validation, ECMP / spraying / minimal-split single-path, fault-tolerant
collectives under churn."""
