"""SAE Workbench's PyTorch training backend: trains what the built-in TypeScript engine trains (same
objectives, initialisation, schedules, aux-k, resampling; docs/training.md) on CUDA or CPU, in one process
or under torchrun (DDP), and writes the same output folder. Run it as `python -m sae_workbench_train`."""
