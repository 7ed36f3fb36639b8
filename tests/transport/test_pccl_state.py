"""Shared state: revision + 1 per sync, popular-hash election, re-fetch, bit parity."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transport.pccl.state import PeerState, apply_sync, content_hash, flip_bit, plan_sync


def _states(revisions, datas):
    return {
        p: PeerState(r, np.array(d, dtype=np.int64))
        for p, (r, d) in enumerate(zip(revisions, datas, strict=True))
    }


def test_hash_detects_a_single_bit_flip():
    rng = np.random.default_rng(0)
    a = rng.integers(-100, 100, 32)
    b = a.copy()
    flip_bit(b, rng)
    assert np.count_nonzero(np.unpackbits((a ^ b).view(np.uint8))) == 1
    assert content_hash(a) != content_hash(b)
    assert content_hash(a) == content_hash(a.copy())
    assert content_hash(a) != content_hash(a.astype(np.int32))  # dtype is part of the hash


def test_divergent_and_stale_peers_refetch_from_popular():
    good = [1, 2, 3]
    st_ = _states([5, 5, 5, 2], [good, good, [1, 2, 4], [0, 0, 0]])
    offers = {p: (s.revision, s.hash()) for p, s in st_.items()}
    plan = plan_sync(offers, expected_revision=5)
    assert plan.popular_hash == content_hash(np.array(good))
    assert plan.fetches == {2: 0, 3: 0} and not plan.rollback
    apply_sync(st_, plan)
    assert {s.revision for s in st_.values()} == {5}
    assert len({s.hash() for s in st_.values()}) == 1


def test_fetch_source_is_the_best_connected_holder():
    st_ = _states([3, 3, 3], [[1], [1], [2]])
    offers = {p: (s.revision, s.hash()) for p, s in st_.items()}
    bw = np.array([[0, 1, 5], [1, 0, 9], [5, 9, 0]], dtype=float)
    assert plan_sync(offers, 3, bw).fetches == {2: 1}
    bw[0, 2] = 10
    assert plan_sync(offers, 3, bw).fetches == {2: 0}


def test_tie_goes_to_lowest_peer_and_rollback_is_flagged():
    st_ = _states([4, 4], [[7], [8]])
    offers = {p: (s.revision, s.hash()) for p, s in st_.items()}
    plan = plan_sync(offers, 4)
    assert plan.popular_hash == content_hash(np.array([7])) and plan.fetches == {1: 0}
    # nobody at the expected revision: the newest copy is adopted and relabelled
    st_ = _states([2, 3, 3], [[1], [2], [2]])
    offers = {p: (s.revision, s.hash()) for p, s in st_.items()}
    plan = plan_sync(offers, 9)
    assert plan.rollback and plan.revision == 9 and plan.fetches == {0: 1}
    with pytest.raises(ValueError, match="at least one peer"):
        plan_sync({}, 1)


@settings(max_examples=50, deadline=None)
@given(
    rounds=st.lists(
        st.lists(st.tuples(st.booleans(), st.booleans()), min_size=2, max_size=6),
        min_size=1,
        max_size=8,
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_revision_rises_by_one_and_parity_holds(rounds, seed):
    """Over any sequence of syncs, with peers corrupted or left stale at random, the group
    revision rises by exactly 1 per sync, no peer's revision falls, and after every sync
    all peers hold the same bits (as long as one honest holder keeps the majority)."""
    rng = np.random.default_rng(seed)
    width = 6
    peers = {p: PeerState(0, np.zeros(4, dtype=np.int64)) for p in range(width)}
    group = 0
    for flags in rounds:
        present = list(range(len(flags)))
        for p, (corrupt, stale) in zip(present, flags, strict=True):
            if not stale:
                peers[p].revision += 1
            if corrupt and p != 0:
                flip_bit(peers[p].data, rng)
        before = {p: peers[p].revision for p in present}
        offers = {p: (peers[p].revision, peers[p].hash()) for p in present}
        plan = plan_sync(offers, group + 1)
        apply_sync({p: peers[p] for p in present}, plan)
        assert plan.revision == group + 1
        group = plan.revision
        assert all(peers[p].revision == group >= before[p] for p in present)
        assert len({peers[p].hash() for p in present}) == 1
        for p in present:  # an update shared by all (the all-reduce result)
            peers[p].data += 1
