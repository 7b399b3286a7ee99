import sys


def _main():
    try:
        import torch  # noqa: F401  - the one hard requirement, checked before anything else imports it
    except ImportError:
        sys.stderr.write(f"sae_workbench_capture: PyTorch (torch) is not installed for the interpreter {sys.executable}; "
                         "install it there (pip install torch) or choose an interpreter that has it\n")
        raise SystemExit(2)
    from .cli import main
    main(sys.argv[1:])


_main()
