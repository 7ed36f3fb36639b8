"""Visibility screening: never below the mask, and identical to brute-force look angles."""

from datetime import UTC, datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from satellite.frames import look_angles
from satellite.orbits import walker_delta
from satellite.visibility import visible_pairs

EPOCH = datetime(2021, 8, 5, tzinfo=UTC)
CON = walker_delta(60, 6, 1, 53.0, 550.0, EPOCH)
T = np.arange(0.0, 1200.0, 30.0)
POS = CON.ecef(EPOCH, T)


@settings(max_examples=25, deadline=None)
@given(
    mask=st.floats(0.0, 60.0),
    lat0=st.floats(-60.0, 60.0),
    lon0=st.floats(-180.0, 180.0),
    seed=st.integers(0, 2**16),
)
def test_visibility_never_lists_a_satellite_below_the_mask(mask, lat0, lon0, seed):
    rng = np.random.default_rng(seed)
    n_obs = 3
    lat = lat0 + np.cumsum(rng.normal(0, 0.05, (n_obs, T.size)), axis=1)
    lon = lon0 + np.cumsum(rng.normal(0, 0.05, (n_obs, T.size)), axis=1)
    alt = rng.uniform(0, 12000, (n_obs, T.size))
    vis = visible_pairs(POS, np.clip(lat, -89, 89), lon, alt, mask, chunk=7)
    assert np.all(vis.el_deg >= mask)
    # the same set as brute force
    el, _, _ = look_angles(POS[:, None], lat[None], lon[None], alt[None])  # (S, P, T)
    s, p, t = np.nonzero(el >= mask)
    assert len(vis) == s.size
    assert set(zip(vis.t_idx, vis.sat_idx, vis.obs_idx, strict=True)) == set(
        zip(t, s, p, strict=True)
    )
