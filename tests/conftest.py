import os

import torch

# Under pytest-xdist each worker gets a core: torch's own thread pool on top
# would oversubscribe the CPU, and OpenMP spin-waiting then slows every
# worker down by an order of magnitude.
if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)
