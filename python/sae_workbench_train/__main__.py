"""`python -m sae_workbench_train --activations acts.npy --out runs/x --arch topk --width 16384 ...`

torch is checked before anything else is imported, so that a Python without it gets one clear line."""
import sys


def _main():
    try:
        import torch  # noqa: F401
    except ImportError:
        sys.stderr.write(f"{sys.executable}: torch is not installed for this Python (pip install torch, or name an interpreter that has it)\n")
        raise SystemExit(2)
    from .cli import main
    main(sys.argv[1:])


if __name__ == "__main__":
    _main()
