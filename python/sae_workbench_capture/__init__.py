"""Capture activations of a PyTorch model over a text corpus into sharded safetensors that SAE Workbench
reads (see docs/capture.md). Run it as `python -m sae_workbench_capture --help`."""
FORMAT = "sae-workbench-activations"
VERSION = 1
