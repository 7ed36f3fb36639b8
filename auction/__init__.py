"""auction: hierarchical multi-objective auctions for IoT and cluster resources (MOHAF) and
baselines evaluated on the same objective."""
