"""`python -m sae_workbench_train.torchrun …` is torchrun (`python -m torch.distributed.run …`, same arguments),
with one fix: torch ≤ 1.13 on Python ≥ 3.11 cannot parse its own default `--redirects 0` (Python 3.11 no
longer iterates the zero member of a Flag enum, so Std.from_str("0") returns None and the launch fails with
"'NoneType' object has no attribute 'get'"). Newer torch needs no fix and runs unchanged."""
import sys


def _patch_std():
    from torch.distributed.elastic.multiprocessing import api

    original = api.Std.from_str.__func__

    def from_str(cls, vm):
        value = original(cls, vm)
        if value is None:
            return cls(int(vm))
        if isinstance(value, dict):
            return {k: (cls(0) if v is None else v) for k, v in value.items()}
        return value

    if original(api.Std, "0") is None:
        api.Std.from_str = classmethod(from_str)


def main():
    _patch_std()
    from torch.distributed.run import main as run_main
    run_main(sys.argv[1:])


if __name__ == "__main__":
    main()
