"""The skorch net shared by the neural estimators: time-tail split and losses."""

import numpy as np
import torch
from torch.utils.data import default_collate

from sklearn_causalmmm import CausalGraphDiscoverer, CausalMMMRegressor
from sklearn_causalmmm._causalmmm import training
from sklearn_causalmmm._causalmmm.training import (
    KL_REFERENCE_STEPS,
    EncoderLagFeatures,
    PanelDataset,
    PanelModule,
    PanelNet,
    TimeTailSplit,
)
from sklearn_causalmmm.datasets import make_causal_mmm
from sklearn_causalmmm.nn import CausalMMM
from sklearn_causalmmm.utils.lags import edge_lag_features


def _net(**kwargs) -> PanelNet:
    return PanelNet(torch.nn.Identity(), criterion=torch.nn.MSELoss, **kwargs)


def _batch(dataset, rows=None):
    """Every shop of ``dataset`` collated as skorch's iterator collates them."""
    rows = range(len(dataset)) if rows is None else rows
    return default_collate([dataset[i] for i in rows])[0]


def test_time_tail_split_holds_out_the_last_steps_of_every_shop():
    values = np.arange(2 * 3 * 10, dtype=np.float32).reshape(2, 3, 10) + 1.0
    scale = np.ones((2, 3), dtype=np.float32)
    data = PanelDataset(values, scale, np.ones((2, 10), bool), np.zeros((2, 1)), 8)
    train, valid = (_batch(part) for part in TimeTailSplit(3)(data))
    np.testing.assert_array_equal(train["values"], values[..., :7])
    # the training window keeps the trained horizon of 2 rolled-out steps
    assert train["n_teacher"].tolist() == [5, 5]
    np.testing.assert_array_equal(valid["values"], values)
    assert valid["n_teacher"].tolist() == [7, 7]
    # only the held-out tail is scored
    assert valid["mask"][:, :7].sum() == 0 and valid["mask"][:, 7:].all()
    # each row keeps its shop, whose own parameters it selects
    assert train["shops"].tolist() == valid["shops"].tolist() == [0, 1]


def test_dataset_scales_each_shop_when_it_is_read_without_copying_the_panel():
    rng = np.random.RandomState(0)
    values = rng.rand(5, 3, 12).astype(np.float32) + 0.5
    scale = rng.rand(5, 3).astype(np.float32) + 0.5
    mask = rng.rand(5, 12) > 0.2
    context = rng.rand(5, 2).astype(np.float32)
    data = PanelDataset(values, scale, mask, context, 9, loss_start=4)
    assert data.values is values  # the stored panel, not a copy
    batch = _batch(data, [3, 1])
    # bit for bit the scaled panel
    expected = (values / scale[..., None]).astype(np.float32)[[3, 1]]
    assert batch["values"].dtype == torch.float32
    np.testing.assert_array_equal(batch["values"].numpy(), expected)
    loss_mask = mask[[3, 1]].astype(np.float32)
    loss_mask[:, :4] = 0.0
    np.testing.assert_array_equal(batch["mask"].numpy(), loss_mask)
    np.testing.assert_array_equal(batch["context"].numpy(), context[[3, 1]])
    assert batch["shops"].tolist() == [3, 1] and batch["n_teacher"].tolist() == [9, 9]
    assert not np.shares_memory(batch["values"].numpy(), values)
    np.testing.assert_array_equal(values, data.values)  # input left as it was


def test_pair_features_are_those_of_the_window_the_encoder_reads(monkeypatch):
    # 30 steps: a horizon of 2 and 6 held-out steps leave 22 steps of history;
    # training reads steps 0..21, validation 2..23 (never the held-out tail);
    # chunks of 2 shops: computed chunk by chunk, they are those of the panel
    monkeypatch.setattr(training, "SHOP_CHUNK", 2)
    rng = np.random.RandomState(0)
    values = rng.rand(3, 2, 30).astype(np.float32) + 1.0
    scale = np.ones((3, 2), dtype=np.float32)
    mask = np.ones((3, 30), dtype=bool)
    mask[2, :5] = False  # a shop that starts late
    features = EncoderLagFeatures(n_history=22, n_lags=2, lag_features="both")
    assert features.n_features == 4
    data = PanelDataset(
        values, scale, mask, np.zeros((3, 0)), 28, pair_features=features
    )
    train, valid = (_batch(part) for part in TimeTailSplit(6)(data))

    def expected(start, stop):
        window = slice(start, stop)
        return edge_lag_features(values[..., window], mask[:, window], 2, "both")

    np.testing.assert_allclose(train["pair_features"], expected(0, 22), rtol=1e-6)
    np.testing.assert_allclose(valid["pair_features"], expected(2, 24), rtol=1e-6)
    assert valid["pair_features"].dtype == torch.float32
    # without a split the model trains on the whole window before the horizon
    np.testing.assert_allclose(
        _batch(data)["pair_features"], expected(6, 28), rtol=1e-6
    )


def test_validation_scores_only_the_forecast_nodes():
    values = torch.zeros(2, 3, 5)
    prediction = torch.zeros(2, 3, 4)
    prediction[:, :2] = 100.0  # channels: huge one-step errors, ignored
    prediction[0, 2] = torch.tensor([9.0, 9.0, 1.0, 2.0])  # target
    prediction[1, 2] = torch.tensor([9.0, 9.0, 3.0, 0.0])
    mask = torch.tensor([[0.0, 0.0, 0.0, 1.0, 1.0]] * 2)  # the last two steps
    logits = torch.zeros(2, 3, 3, 2)
    X = {"values": values, "mask": mask}
    net = _net(scored_nodes=np.array([False, False, True]))
    loss = net.get_loss((prediction, logits), None, X=X, training=False)
    assert loss.item() == (1.0 + 4.0 + 9.0 + 0.0) / 4
    # training still minimises the negative ELBO over every node
    train = net.get_loss((prediction, logits), None, X=X, training=True)
    assert train.item() > 100.0


def test_regressor_early_stops_on_its_gmv_forecast_error():
    data = make_causal_mmm(n_shops=6, n_steps=40, random_state=0)
    model = CausalMMMRegressor(hidden=8, max_epochs=2, random_state=0)
    model.fit(data.X, data.y, context=data.context)
    assert model.net_.scored_nodes.tolist() == [False] * data.X.shape[1] + [True]
    # its graph serves the forecast: the KL counts once per shop
    assert model.net_.kl_reference_steps is None
    last = model.history_[-1]
    assert last["valid_loss"] >= 0.0 and last["valid_loss"] != last["train_loss"]


def test_kl_term_of_a_long_shop_counts_once_per_reference_window():
    n_nodes, n_steps = 3, 2 * KL_REFERENCE_STEPS + 1
    values = torch.zeros(2, n_nodes, n_steps)
    mask = torch.ones(2, n_steps)
    mask[1, 1 + KL_REFERENCE_STEPS // 2 :] = 0.0  # second shop: half a window
    X = {"values": values, "mask": mask}
    prediction = torch.zeros(2, n_nodes, n_steps - 1)  # no reconstruction error
    logits = torch.zeros(2, n_nodes, n_nodes, 2)  # q(edge) = 1/2
    per_edge = 0.5 * np.log(0.5 / 0.8) + 0.5 * np.log(0.5 / 0.2)
    kl_per_shop = n_nodes * (n_nodes - 1) * per_edge / n_nodes
    settings = {"kl_weight": 3.0, "edge_prior": 0.2, "nll_variance": 1.0}

    net = _net(kl_reference_steps=KL_REFERENCE_STEPS, **settings)
    loss = net.get_loss((prediction, logits), None, X=X)
    # 2 reference windows for the first shop; the short one counts once
    assert abs(loss.item() - 3.0 * kl_per_shop * (2.0 + 1.0) / 2) < 1e-5
    once_per_shop = _net(**settings).get_loss((prediction, logits), None, X=X)
    assert abs(once_per_shop.item() - 3.0 * kl_per_shop) < 1e-5


def test_discoverer_counts_the_kl_per_observed_steps():
    data = make_causal_mmm(n_shops=4, n_steps=30, random_state=0)
    X = np.concatenate([data.X, data.y[:, None]], axis=1)
    model = CausalGraphDiscoverer(hidden=4, max_epochs=1, random_state=0)
    model.fit(X, context=data.context)
    assert model.net_.kl_reference_steps == KL_REFERENCE_STEPS


def test_loss_adds_the_prior_of_the_batch_shops_edge_gains():
    model = CausalMMM(
        n_nodes=2, n_history=5, n_context=0, n_shops=3, edge_gain_scale=2.0
    )
    net = PanelNet(PanelModule(model), criterion=torch.nn.MSELoss, lr=0.1).initialize()
    with torch.no_grad():
        model.shop_log_gains[2] = torch.tensor([[9.0, 2.0], [-4.0, 9.0]])
    X = {"values": torch.zeros(2, 2, 6), "mask": torch.ones(2, 6)}
    y_pred = (torch.zeros(2, 2, 5), torch.zeros(2, 2, 2, 2))
    without = net.get_loss(y_pred, None, X=X).item()
    with_gains = net.get_loss(y_pred, None, X={**X, "shops": torch.tensor([2, 0])})
    # shop 2: (4 + 16) / (2 * 4) = 2.5, shop 0: 0, averaged over the batch
    assert abs(with_gains.item() - without - 1.25) < 1e-5
