"""End-to-end training with nn layers and losses (plain SGD written out, so only nn is under test):
the accuracy and loss reached are asserted."""

import numpy as np

import ember
import ember.nn as nn
import ember.nn.functional as F


def sgd_step(model, lr):
    with ember.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
    model.zero_grad()


def spirals(n=200, seed=0):
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.random(n)) * 2 * np.pi
    cls = rng.integers(0, 2, n)
    r = t / (2 * np.pi)
    angle = t + cls * np.pi
    x = np.stack([r * np.cos(angle), r * np.sin(angle)], 1) + rng.normal(0, 0.02, (n, 2))
    return x.astype(np.float32), cls


def test_mlp_with_batchnorm_dropout_learns_spirals():
    ember.manual_seed(0)
    x, y = spirals()
    model = nn.Sequential(nn.Linear(2, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.1),
                          nn.Linear(64, 64), nn.LayerNorm(64), nn.GELU(), nn.Linear(64, 2))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
    xt, yt = ember.tensor(x), ember.tensor(y)
    rng = np.random.default_rng(1)
    for epoch in range(60):
        order = rng.permutation(len(x))
        for i in range(0, len(x), 50):
            b = order[i:i + 50]
            loss = loss_fn(model(xt[ember.tensor(b)]), yt[ember.tensor(b)])
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            sgd_step(model, 0.2)
    model.eval()
    with ember.no_grad():
        acc = (model(xt).argmax(1).numpy() == y).mean()
    assert acc >= 0.95, acc


def test_regression_with_mse_reaches_low_loss():
    ember.manual_seed(1)
    rng = np.random.default_rng(2)
    x = rng.uniform(-2, 2, (256, 1)).astype(np.float32)
    y = np.sin(x) * 2
    model = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.SiLU(), nn.Linear(32, 1))
    xt, yt = ember.tensor(x), ember.tensor(y)
    for step in range(800):
        loss = F.mse_loss(model(xt), yt)
        loss.backward()
        sgd_step(model, 0.05)
    assert loss.item() < 0.01, loss.item()


def test_embedding_bag_of_words_classifier():
    """Token ids -> Embedding (with padding) -> mean -> Linear: learns which tokens mark the class."""
    ember.manual_seed(2)
    rng = np.random.default_rng(3)
    n, length, vocab = 300, 6, 20
    tokens = rng.integers(1, vocab, (n, length))
    labels = (np.isin(tokens, [3, 7, 11]).sum(1) > 1).astype(np.int64)
    tokens[:, -1] = 0                       # a padding token everywhere
    model_emb, head = nn.Embedding(vocab, 8, padding_idx=0), nn.Linear(8, 2)
    params = list(model_emb.parameters()) + list(head.parameters())
    tt, lt = ember.tensor(tokens), ember.tensor(labels)
    for step in range(300):
        logits = head(model_emb(tt).mean(1))
        loss = F.cross_entropy(logits, lt)
        loss.backward()
        with ember.no_grad():
            for p in params:
                p -= 0.5 * p.grad
                p.grad = None
    acc = (head(model_emb(tt).mean(1)).argmax(1).numpy() == labels).mean()
    assert acc > 0.9, acc
    assert not model_emb.weight.detach().numpy()[0].any()     # the padding row never moved
