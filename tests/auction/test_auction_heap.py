"""The array heaps of the compiled greedy (auction.heap) pop exactly what ``heapq`` pops."""

import heapq

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from auction import heap

# (operation, key) with few distinct keys so ties on the key are common; the tie-break is
# the operation's index, unique like a pair index
ops = st.lists(st.tuples(st.sampled_from(["push", "pop", "replace"]), st.integers(0, 4)))


@settings(max_examples=60, deadline=None)
@given(ops, st.integers(0, 3))
def test_heap_matches_heapq(sequence, lo):
    h = np.zeros(lo + len(sequence) + 1, heap.ENTRY)
    n, ref = 0, []
    for t, (op, key) in enumerate(sequence):
        if op == "push" or not ref:
            n = heap.push(h, lo, n, float(key), t, 100 + t)
            heapq.heappush(ref, (float(key), t, 100 + t))
        elif op == "pop":
            assert (h[lo]["key"], h[lo]["tie"], h[lo]["val"]) == ref[0]
            n = heap.pop(h, lo, n)
            heapq.heappop(ref)
        else:
            assert (h[lo]["key"], h[lo]["tie"], h[lo]["val"]) == ref[0]
            heap.replace(h, lo, n, float(key), t, 100 + t)
            heapq.heapreplace(ref, (float(key), t, 100 + t))
        assert n == len(ref)
    out = []
    while n:
        out.append((h[lo]["key"], h[lo]["tie"], h[lo]["val"]))
        n = heap.pop(h, lo, n)
    assert out == sorted(ref)


def test_heaps_in_segments_do_not_touch_each_other():
    h = np.zeros(6, heap.ENTRY)
    na = nb = 0
    for t, k in enumerate([3.0, 1.0, 2.0]):
        na = heap.push(h, 0, na, k, t, t)
        nb = heap.push(h, 3, nb, -k, t, t)
    assert h[0]["key"] == 1.0 and h[3]["key"] == -3.0
    assert heap.before(1.0, 5, 1.0, 6) and not heap.before(1.0, 6, 1.0, 6)
