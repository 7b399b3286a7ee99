"""The capture folder: shards of rows, a manifest rewritten after each shard, and resume.

Each shard_NNNNN.safetensors holds, for its rows, one [rows, d] tensor per site (named by the site),
`token_ids` int32, `doc` int64 (document index in corpus order) and `pos` int32 (token index in the
document; -1 for a BOS row). A shard covers whole contexts, so a resumed run starts at the first
context no listed shard holds. Shards are written to a temp file and renamed; the manifest is rewritten
(also atomically) after each one, so a kill at any moment leaves only complete shards listed.
"""
import glob
import json
import os

import torch

from sae_workbench_common.safetensors_io import save_file

from . import FORMAT, VERSION
from .models import SpecError

MANIFEST = "manifest.json"


def shard_name(index: int) -> str:
    return f"shard_{index:05d}.safetensors"


def write_json_atomic(path, doc):
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


class CaptureFolder:
    def __init__(self, folder, identity, overwrite=False):
        """identity: the options that decide which rows a capture holds; a resume must match them."""
        self.folder = folder
        self.identity = identity
        self.shards = []
        self.manifest = None
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, MANIFEST)
        if os.path.exists(path) and not overwrite:
            try:
                with open(path, encoding="utf-8") as f:
                    old = json.load(f)
            except (OSError, json.JSONDecodeError) as e:
                raise SpecError(f"{path}: cannot read the existing manifest ({e}); use --overwrite to start again") from None
            if not isinstance(old, dict) or old.get("format") != FORMAT:
                raise SpecError(f"{path}: not a capture manifest; choose an empty folder or --overwrite")
            if old.get("identity") != identity:
                diff = [k for k in identity if (old.get("identity") or {}).get(k) != identity[k]]
                raise SpecError(f"{path}: the folder holds a capture with other options ({', '.join(diff)}); use another folder or --overwrite")
            self.manifest = old
            self.shards = list(old.get("shards", []))
        elif overwrite:
            for stale in glob.glob(os.path.join(folder, "shard_*.safetensors")) + [path]:
                if os.path.exists(stale):
                    os.remove(stale)

    @property
    def complete(self) -> bool:
        return bool(self.manifest and self.manifest.get("complete"))

    @property
    def rows(self) -> int:
        return sum(s["rows"] for s in self.shards)

    @property
    def contexts(self) -> int:
        return self.shards[-1]["contexts"][1] if self.shards else 0

    @property
    def documents(self) -> int:
        return self.manifest.get("corpus", {}).get("documents", 0) if self.manifest else 0

    def write_shard(self, tensors, rows, contexts_end):
        index = len(self.shards)
        name = shard_name(index)
        save_file(tensors, os.path.join(self.folder, name), metadata={"format": FORMAT, "shard": str(index)})
        self.shards.append({"file": name, "rows": rows, "contexts": [self.contexts, contexts_end]})
        return name

    def write_manifest(self, facts, complete):
        doc = {"format": FORMAT, "version": VERSION, **facts, "rows": self.rows, "shards": self.shards,
               "complete": complete, "identity": self.identity}
        write_json_atomic(os.path.join(self.folder, MANIFEST), doc)
        self.manifest = doc

    def remove_unlisted_files(self):
        listed = {s["file"] for s in self.shards}
        # shards past the listed ones (a run stopped between a shard and its manifest) and temp files of killed runs
        for path in glob.glob(os.path.join(self.folder, "shard_*.safetensors*")) + glob.glob(os.path.join(self.folder, "*.json.tmp-*")):
            if os.path.basename(path) not in listed:
                os.remove(path)


class ShardBuffer:
    """Rows gathered since the last shard, per site plus token_ids/doc/pos."""

    def __init__(self, site_names):
        self.site_names = site_names
        self.clear()

    def clear(self):
        self.parts = {name: [] for name in self.site_names}
        self.token_ids, self.doc, self.pos = [], [], []
        self.rows = 0

    def add(self, acts, token_ids, doc, pos):
        for name in self.site_names:
            self.parts[name].append(acts[name])
        self.token_ids.append(token_ids)
        self.doc.append(doc)
        self.pos.append(pos)
        self.rows += len(token_ids)

    def take(self):
        """The rows gathered so far, as a buffer of their own (for the writer thread); this one starts empty."""
        rows = ShardBuffer(self.site_names)
        rows.parts, rows.token_ids, rows.doc, rows.pos, rows.rows = self.parts, self.token_ids, self.doc, self.pos, self.rows
        self.clear()
        return rows

    def tensors(self):
        out = {name: torch.cat(self.parts[name]) for name in self.site_names}
        out["token_ids"] = torch.cat(self.token_ids).to(torch.int32)
        out["doc"] = torch.cat(self.doc).to(torch.int64)
        out["pos"] = torch.cat(self.pos).to(torch.int32)
        return out
