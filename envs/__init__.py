"""Gymnasium registrations of every netsim env, under the namespace ``netsim``.

Importing this package registers the ids (idempotently), so both
``gymnasium.make("envs:netsim/QueueAdmission-v0")`` and, after ``import envs``,
``gymnasium.make("netsim/QueueAdmission-v0")`` work. Entry points are strings: an env's
module is imported only when the env is made. netsim's CLI finds this package through the
``netsim.envs`` entry-point group.
"""

from gymnasium.envs.registration import register, registry

from netsim.baselines import register_baselines

__all__ = ["ENVS", "VECTOR_ENVS", "BASELINES", "register_all"]

#: env id -> "module:class"; one line per env
ENVS: dict[str, str] = {
    "netsim/QueueAdmission-v0": "envs.queue:QueueAdmissionEnv",
    "netsim/OranSlicing-v0": "envs.oran:OranSlicingEnv",
    "netsim/OranSlicing-TRACTOR-v0": "envs.oran_tractor:OranSlicingTractorEnv",
    "netsim/CompMarket-v0": "envs.comp_market:CompMarketEnv",
    "netsim/CompMarket-City-v0": "envs.comp_market:CompMarketCityEnv",
    "netsim/AuctionPricing-v0": "envs.auction:AuctionPricingEnv",
    "netsim/EntanglementChain-v0": "envs.entanglement:EntanglementChainEnv",
    "netsim/QuantumScheduling-v0": "envs.quantum_scheduling:QuantumSchedulingEnv",
    "netsim/EntanglementRouting-v0": "envs.entanglement_routing:EntanglementRoutingEnv",
    "netsim/SatelliteHandover-v0": "envs.satellite:SatelliteHandoverEnv",
    "netsim/SatelliteHandover-LEO-v0": "envs.satellite:SatelliteHandoverLEOEnv",
    "netsim/CollectiveRouting-v0": "envs.collective:CollectiveRoutingEnv",
    "netsim/CollectiveRouting-Symmetric-v0": "envs.collective:CollectiveRoutingSymmetricEnv",
    "netsim/CollectiveRouting-1024-v0": "envs.collective:CollectiveRouting1024Env",
}

#: env id -> "module:class" of a native batched ``gymnasium.vector.VectorEnv``, returned by
#: ``gym.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point")``
VECTOR_ENVS: dict[str, str] = {
    "netsim/QueueAdmission-v0": "envs.queue_vector:QueueAdmissionVectorEnv",
    "netsim/OranSlicing-v0": "envs.oran_vector:OranSlicingVectorEnv",
}

#: env id -> "module:function" returning its ``netsim.baselines.Baseline`` list (lazy)
BASELINES: dict[str, str] = {
    "netsim/QueueAdmission-v0": "envs.queue:baselines",
    "netsim/OranSlicing-v0": "envs.oran:baselines",
    "netsim/OranSlicing-TRACTOR-v0": "envs.oran_tractor:baselines",
    "netsim/CompMarket-v0": "envs.comp_market:baselines",
    "netsim/AuctionPricing-v0": "envs.auction:baselines",
    "netsim/EntanglementChain-v0": "envs.entanglement:baselines",
    "netsim/QuantumScheduling-v0": "envs.quantum_scheduling:baselines",
    "netsim/EntanglementRouting-v0": "envs.entanglement_routing:baselines",
    "netsim/SatelliteHandover-v0": "envs.satellite:baselines",
    "netsim/SatelliteHandover-LEO-v0": "envs.satellite:baselines",
    "netsim/CollectiveRouting-v0": "envs.collective:baselines",
    "netsim/CollectiveRouting-Symmetric-v0": "envs.collective:baselines",
}


def register_all() -> None:
    """Register every id in :data:`ENVS` that is not registered yet, and its baselines."""
    for env_id, entry_point in ENVS.items():
        if env_id not in registry:
            register(id=env_id, entry_point=entry_point,
                     vector_entry_point=VECTOR_ENVS.get(env_id))
    for env_id, source in BASELINES.items():
        register_baselines(env_id, source)


register_all()
