"""Data-parallel training: two gloo processes fit what one process fits."""

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from sklearn_causalmmm._causalmmm.distributed import (
    ShardBatchSampler,
    data_parallel_world,
)
from sklearn_causalmmm.datasets import make_causal_mmm

ROOT = Path(__file__).resolve().parents[2]

gloo = pytest.mark.skipif(
    not (torch.distributed.is_available() and torch.distributed.is_gloo_available()),
    reason="torch.distributed with the gloo backend is not available in this build",
)

# Rank 0 first fits alone (the reference), then both ranks fit as one group.
# Gumbel noise is drawn per batch from each process's generator, so a rank's
# 5 or 4 shops cannot get the draws one process makes for 9: both sides replace
# the sample by its noiseless limit (the tempered softmax), and the test is of
# the data-parallel arithmetic (sharding, loss weights, gradient averaging).
WORKER = textwrap.dedent(
    """
    import os
    import pickle
    import sys
    from datetime import timedelta

    import numpy as np
    import torch
    import torch.distributed as dist

    import sklearn_causalmmm.nn.model as model_module
    from sklearn_causalmmm import CausalMMMRegressor
    from sklearn_causalmmm._causalmmm.training import PanelNet
    from sklearn_causalmmm.datasets import make_causal_mmm

    store, out, rank = sys.argv[1], sys.argv[2], int(sys.argv[3])
    model_module.sample_edges = lambda logits, tau, hard=False: torch.softmax(
        logits / tau, dim=-1
    )
    gradients = {}
    step = PanelNet.train_step_single

    def first_step(net, batch, **fit_params):
        result = step(net, batch, **fit_params)
        if not gradients:
            for name, p in net.module_.named_parameters():
                if p.grad is not None:
                    gradients["grad." + name] = p.grad.detach().clone().numpy()
        return result

    PanelNet.train_step_single = first_step
    data = make_causal_mmm(
        n_shops=9, n_channels=4, n_funnel=1, n_steps=40, random_state=0
    )

    def fit(name, random_state=0):
        gradients.clear()
        model = CausalMMMRegressor(
            hidden=8,
            horizon=2,
            n_lags=1,
            max_epochs=2,
            batch_size=9,  # shops per step over both processes: 5 and 4
            edge_gain_scale=0.5,
            validation_fraction=0.2,
            random_state=random_state,
        ).fit(data.X[..., :38], data.y[:, :38], context=data.context)
        weights = model.model_.state_dict().items()
        np.savez(
            f"{out}/{name}.npz",
            forecast=model.predict(data.X[..., 38:], context=data.context),
            train_loss=[row["train_loss"] for row in model.history_],
            valid_loss=[row["valid_loss"] for row in model.history_],
            **gradients,
            **{"weight." + k: v.detach().numpy() for k, v in weights},
        )
        return model

    if rank == 0:
        fit("single")
    dist.init_process_group(
        "gloo",
        init_method="file://" + store,
        rank=rank,
        world_size=2,
        # rank 1 waits here while rank 0 fits alone: room for a loaded machine
        timeout=timedelta(seconds=600),
    )
    model = fit(f"rank{rank}")
    try:  # ranks that disagree fail together, rather than train apart
        fit("mismatch", random_state=rank)
    except ValueError as error:
        with open(f"{out}/error{rank}.txt", "w") as file:
            file.write(str(error))
    dist.destroy_process_group()
    if rank == 0:
        with open(f"{out}/rank0.pkl", "wb") as file:
            pickle.dump(model, file)
    # everything is written: leave without the interpreter's shutdown, where a
    # loaded machine once saw a finished worker abort on gloo's threads
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
    """
)


def _launch(tmp_path, timeout=600):
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER)
    # the workers import the package of this checkout, not an installed one
    paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join(p for p in paths if p),
    }
    # a FileStore rendezvous: no port to choose, nothing left listening
    args = [str(worker), str(tmp_path / "store"), str(tmp_path)]
    workers = [
        subprocess.Popen(
            [sys.executable, *args, str(rank)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in (0, 1)
    ]
    try:
        for process in workers:
            _, stderr = process.communicate(timeout=timeout)
            assert process.returncode == 0, stderr[-3000:]
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
                process.communicate()


@gloo
def test_two_gloo_processes_fit_what_one_process_fits(tmp_path):
    _launch(tmp_path)
    single = np.load(tmp_path / "single.npz")
    ranks = [np.load(tmp_path / f"rank{rank}.npz") for rank in (0, 1)]
    gradients = [k for k in single.files if k.startswith("grad.")]
    weights = [k for k in single.files if k.startswith("weight.")]
    # the first step has gradients for the encoder, the decoder and every
    # shop's own edge gains (those of the other rank's shops reach a rank
    # only through the all-reduce)
    assert any(k.startswith("grad.model.encoder.") for k in gradients)
    assert any(k.startswith("grad.model.decoder.") for k in gradients)
    assert np.abs(single["grad.model.shop_log_gains"]).sum(axis=(1, 2)).min() > 0
    for rank in ranks:
        assert sorted(rank.files) == sorted(single.files)
        for key in gradients:
            np.testing.assert_allclose(
                rank[key], single[key], rtol=1e-5, atol=1e-7, err_msg=key
            )
        # Adam divides a gradient by its running scale, so where a gradient is
        # near 0 its summation-order rounding moves a weight by ~1e-7
        for key in weights + ["forecast", "train_loss", "valid_loss"]:
            np.testing.assert_allclose(
                rank[key], single[key], rtol=1e-5, atol=1e-6, err_msg=key
            )
    # both ranks end with one model, bit for bit
    for key in weights + ["forecast"]:
        np.testing.assert_array_equal(ranks[0][key], ranks[1][key], err_msg=key)
    for rank in (0, 1):
        error = (tmp_path / f"error{rank}.txt").read_text()
        assert "seed drawn from random_state" in error and "sum of" not in error
    # the fitted model holds no process group: it loads and forecasts alone
    with open(tmp_path / "rank0.pkl", "rb") as file:
        model = pickle.load(file)
    data = make_causal_mmm(
        n_shops=9, n_channels=4, n_funnel=1, n_steps=40, random_state=0
    )
    forecast = model.predict(data.X[..., 38:], context=data.context)
    np.testing.assert_array_equal(forecast, ranks[0]["forecast"])
    # two epochs moved the shops' edge gains away from their initial zeros
    assert np.abs(single["weight.shop_log_gains"]).max() > 1e-4


@pytest.mark.parametrize("n_shops, batch_size, world_size", [(10, 4, 2), (13, 5, 3)])
def test_ranks_share_out_the_mini_batches_of_one_process(
    n_shops, batch_size, world_size
):
    def passes(rank, world):
        sampler = ShardBatchSampler(
            n_shops, batch_size, rank, world, torch.Generator().manual_seed(7)
        )
        return [list(sampler) for _ in range(2)], len(sampler)

    alone, n_steps = passes(0, 1)
    ranks = [passes(rank, world_size) for rank in range(world_size)]
    assert {steps for _, steps in ranks} == {n_steps}
    for epoch in range(2):
        for step, batch in enumerate(alone[epoch]):
            parts = [passes_[epoch][step] for passes_, _ in ranks]
            # the ranks' parts are the one process's mini-batch, split evenly
            assert sum(parts, []) == batch
            assert max(map(len, parts)) - min(map(len, parts)) <= 1
        assert sorted(sum(alone[epoch], [])) == list(range(n_shops))
    # a new permutation every pass
    assert alone[0] != alone[1]


def test_a_last_batch_smaller_than_the_group_joins_the_one_before():
    # 9 shops in batches of 4 on 2 ranks: 4, 4, 1 -> 4, 5
    sampler = ShardBatchSampler(9, 4, 1, 2, torch.Generator().manual_seed(0))
    assert [len(part) for part in sampler] == [2, 2]
    assert len(sampler) == 2


def test_too_few_shops_or_too_small_a_batch_for_the_group_is_named():
    with pytest.raises(ValueError, match="3 shops for 4 processes"):
        ShardBatchSampler(3, 8, 0, 4, torch.Generator())
    with pytest.raises(ValueError, match="set batch_size to at least 4"):
        ShardBatchSampler(30, 2, 0, 4, torch.Generator())


def test_a_process_outside_any_group_trains_alone():
    assert data_parallel_world() is None
