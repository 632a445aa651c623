"""Multi-process training under ``torchrun``: detection, setup and small collectives.

``torchrun --nproc_per_node N`` sets RANK, WORLD_SIZE and LOCAL_RANK; with
WORLD_SIZE > 1 we join the process group (gloo on CPU, nccl on CUDA). Only
rank 0 writes files (checkpoints, previews, exported weights).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits in a (possibly single-process) run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    started_here: bool = False  # we called init_process_group (so we tear it down)

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup_distributed(use_cuda: bool) -> DistInfo:
    """Join the process group when launched by torchrun; a no-op otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if world <= 1:
        return DistInfo()
    import torch
    import torch.distributed as dist

    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    started = False
    if not dist.is_initialized():
        if use_cuda:
            torch.cuda.set_device(local)
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
        started = True
    return DistInfo(rank=dist.get_rank(), world_size=dist.get_world_size(), local_rank=local,
                    started_here=started)


def teardown_distributed(info: DistInfo) -> None:
    """Leave the process group if we joined it."""
    if info.started_here:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()


def any_rank(flag: bool, info: DistInfo, device: Any) -> bool:
    """True on every rank when ``flag`` is true on any rank (so all ranks stop together)."""
    if not info.enabled:
        return flag
    import torch
    import torch.distributed as dist

    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item() > 0)


def sync_buffers_from_main(module: Any, info: DistInfo) -> None:
    """Copy rank 0's buffers (BatchNorm running statistics) to every rank."""
    if not info.enabled:
        return
    import torch.distributed as dist

    for buffer in module.buffers():
        dist.broadcast(buffer, src=0)
