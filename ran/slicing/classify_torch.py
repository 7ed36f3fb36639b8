"""A small Transformer classifier of KPM windows (torch), after TRACTOR's ``trans_v1``.

Each report of a normalised ``(32, 17)`` window is embedded linearly (17 -> ``d``), a learned
positional embedding is added, two Transformer encoder layers (Vaswani et al., 2017) with 4
heads follow, and the mean over the window feeds a linear layer to the 4 classes. Trained
with AdamW and cross-entropy on CPU, deterministically for a given seed.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .classify import WINDOW, MinMax
from .kpm import FEATURES

__all__ = ["TransformerNet", "TransformerClassifier"]


class TransformerNet(nn.Module):
    def __init__(self, n_features: int = len(FEATURES), n_classes: int = 4, d: int = 32,
                 heads: int = 4, layers: int = 2, window: int = WINDOW):
        super().__init__()
        self.embed = nn.Linear(n_features, d)
        self.position = nn.Parameter(torch.zeros(1, window, d))
        layer = nn.TransformerEncoderLayer(d, heads, dim_feedforward=2 * d, dropout=0.1,
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encoder(self.embed(x) + self.position)
        return self.head(h.mean(dim=1))


class TransformerClassifier:
    """Fit/predict wrapper: min-max scaling, then :class:`TransformerNet`."""

    def __init__(self, seed: int = 0, epochs: int = 12, batch: int = 256, lr: float = 2e-3,
                 threads: int = 1):
        self.seed, self.epochs, self.batch, self.lr, self.threads = seed, epochs, batch, lr, threads
        self.scale = MinMax()
        self.net: TransformerNet | None = None

    def fit(self, w: np.ndarray, y: np.ndarray) -> TransformerClassifier:
        torch.set_num_threads(self.threads)
        torch.manual_seed(self.seed)
        self.scale.fit(w)
        x = torch.as_tensor(self.scale(w), dtype=torch.float32)
        t = torch.as_tensor(y, dtype=torch.long)
        self.net = TransformerNet()
        opt = torch.optim.AdamW(self.net.parameters(), lr=self.lr)
        gen = torch.Generator().manual_seed(self.seed)
        # weight classes by inverse frequency: control windows dominate idle traffic
        counts = torch.bincount(t, minlength=4).clamp(min=1).float()
        loss_fn = nn.CrossEntropyLoss(weight=counts.sum() / (4 * counts))
        self.net.train()
        for _ in range(self.epochs):
            order = torch.randperm(len(t), generator=gen)
            for i in range(0, len(t), self.batch):
                idx = order[i : i + self.batch]
                opt.zero_grad()
                loss = loss_fn(self.net(x[idx]), t[idx])
                loss.backward()
                opt.step()
        self.net.eval()
        return self

    @torch.no_grad()
    def predict(self, w: np.ndarray) -> np.ndarray:
        if len(w) == 0:
            return np.zeros(0, dtype=int)
        torch.set_num_threads(self.threads)
        x = torch.as_tensor(self.scale(w), dtype=torch.float32)
        out = [self.net(x[i : i + 4096]).argmax(dim=1) for i in range(0, len(x), 4096)]
        return torch.cat(out).numpy().astype(int)

    def save(self, path) -> None:
        torch.save({"state": self.net.state_dict(), "low": self.scale.low,
                    "span": self.scale.span}, path)
