import torch
from torch.utils.data import DataLoader, TensorDataset

from sklearn_causalmmm.utils.optim import minimise


def test_full_batch_steps_once_per_epoch_and_reaches_the_minimum():
    weight = torch.zeros(3, requires_grad=True)
    target = torch.tensor([1.0, -2.0, 0.5])
    calls = []

    def loss():
        calls.append(1)
        return ((weight - target) ** 2).sum()

    # gradient descent at rate 0.25 halves the error every step
    curve = minimise(loss, torch.optim.SGD([weight], lr=0.25), n_epochs=30)
    assert len(calls) == len(curve) == 30
    assert curve[0] == 5.25 and curve[1] == 5.25 / 4
    torch.testing.assert_close(weight.detach(), target)


def test_batches_are_reread_every_epoch_and_their_losses_averaged():
    values = torch.arange(6.0)
    weight = torch.zeros(1, requires_grad=True)
    seen = []

    def loss(batch):
        seen.append(sorted(batch.tolist()))
        return (batch + weight).sum()

    loader = DataLoader(
        TensorDataset(values),
        batch_size=4,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )
    # a rate of 0 leaves the loss of every batch at the sum of its values
    curve = minimise(loss, torch.optim.SGD([weight], lr=0.0), 3, loader)
    assert curve == [15.0 / 2] * 3  # two batches of 4 and 2 values per epoch
    assert len(seen) == 6
    for epoch in range(3):
        first, second = seen[2 * epoch : 2 * epoch + 2]
        assert sorted(first + second) == values.tolist()
        assert (len(first), len(second)) == (4, 2)


def test_verbose_prints_every_so_many_epochs(capsys):
    weight = torch.ones(1, requires_grad=True)
    minimise(lambda: weight.sum(), torch.optim.SGD([weight], lr=0.0), 4, verbose=2)
    assert capsys.readouterr().out.splitlines() == [
        "epoch    2  loss 1.00000",
        "epoch    4  loss 1.00000",
    ]
