"""Documents from a corpus, in a fixed order (so a resumed capture skips exactly what it has done).

Local files: .txt (documents separated by blank lines, or one per line, or the whole file), .jsonl (one
JSON object per line, text in --text-field), .parquet (needs pyarrow). Otherwise a `datasets` name, when
the package is installed and the data set is in its cache.
"""
import json
import os

from .models import SpecError


class Corpus:
    def __init__(self, spec, text_field="text", split="train", txt_split="paragraph", config=None):
        self.spec = spec
        self.text_field = text_field
        self.split = split
        self.txt_split = txt_split
        self.config = config
        self.fraction = 0.0  # how much of the corpus has been read, 0..1, when that is known
        ext = os.path.splitext(spec)[1].lower()
        if os.path.exists(spec):
            if os.path.isdir(spec):
                raise SpecError(f"corpus '{spec}' is a folder; give a .txt, .jsonl or .parquet file")
            if ext not in (".txt", ".jsonl", ".parquet", ".md", ".text"):
                raise SpecError(f"corpus '{spec}': unsupported file type '{ext or '(none)'}' (expected .txt, .jsonl or .parquet)")
            self.kind = {".jsonl": "jsonl", ".parquet": "parquet"}.get(ext, "txt")
            self.path = os.path.abspath(spec)
        else:
            looks_like_file = ext in (".txt", ".jsonl", ".parquet", ".json", ".md") or spec.startswith((".", "/", "~")) or os.sep in spec and not _dataset_like(spec)
            try:
                import datasets  # noqa: F401
                have_datasets = True
            except ImportError:
                have_datasets = False
            if looks_like_file or not have_datasets:
                why = "" if looks_like_file else " (and the datasets package is not installed to load it by name)"
                raise SpecError(f"corpus '{spec}' does not exist{why}")
            self.kind = "datasets"
            self.path = spec

    def facts(self, documents) -> dict:
        facts = {"source": self.path, "kind": self.kind, "documents": documents}
        if self.kind in ("jsonl", "parquet", "datasets"):
            facts["text_field"] = self.text_field
        if self.kind == "txt":
            facts["split_by"] = self.txt_split
        if self.kind == "datasets":
            facts.update(split=self.split, config=self.config)
        if self.kind != "datasets":
            facts["bytes"] = os.path.getsize(self.path)
        return facts

    def documents(self):
        """Yields each document's text in order."""
        return {"txt": self._txt, "jsonl": self._jsonl, "parquet": self._parquet, "datasets": self._datasets}[self.kind]()

    def _binary_lines(self):
        size = max(1, os.path.getsize(self.path))
        done = 0
        with open(self.path, "rb") as f:
            for number, line in enumerate(f, 1):
                done += len(line)
                self.fraction = done / size
                yield number, line

    def _txt(self):
        if self.txt_split == "file":
            with open(self.path, "rb") as f:
                text = f.read().decode("utf-8", errors="replace")
            self.fraction = 1.0
            if text.strip():
                yield text
            return
        para = []
        for _, raw in self._binary_lines():
            line = raw.decode("utf-8", errors="replace")
            if self.txt_split == "line":
                line = line.rstrip("\r\n")
                if line.strip():
                    yield line
            elif line.strip():
                para.append(line)
            elif para:
                yield "".join(para).rstrip("\r\n")
                para = []
        if para:
            yield "".join(para).rstrip("\r\n")

    def _jsonl(self):
        for number, raw in self._binary_lines():
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise SpecError(f"corpus '{self.spec}' line {number}: not JSON ({e.msg if hasattr(e, 'msg') else e})") from None
            text = record.get(self.text_field) if isinstance(record, dict) else None
            if not isinstance(text, str):
                raise SpecError(f"corpus '{self.spec}' line {number}: no string field '{self.text_field}' (use --text-field)")
            yield text

    def _parquet(self):
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise SpecError(f"corpus '{self.spec}': reading .parquet needs the pyarrow package, which is not installed") from None
        pf = pq.ParquetFile(self.path)
        if self.text_field not in pf.schema_arrow.names:
            raise SpecError(f"corpus '{self.spec}': no column '{self.text_field}' (has: {', '.join(pf.schema_arrow.names)})")
        total = max(1, pf.metadata.num_rows)
        done = 0
        for batch in pf.iter_batches(columns=[self.text_field]):
            for text in batch.column(0).to_pylist():
                done += 1
                self.fraction = done / total
                if isinstance(text, str):
                    yield text

    def _datasets(self):
        import datasets
        try:
            ds = datasets.load_dataset(self.path, self.config, split=self.split)
        except Exception as e:  # noqa: BLE001 - datasets raises many kinds; the user needs its first line
            raise SpecError(f"corpus '{self.spec}': the datasets package could not load it ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
        if self.text_field not in ds.column_names:
            raise SpecError(f"corpus '{self.spec}': no column '{self.text_field}' (has: {', '.join(ds.column_names)})")
        total = max(1, len(ds))
        for i, record in enumerate(ds):
            self.fraction = (i + 1) / total
            text = record[self.text_field]
            if isinstance(text, str):
                yield text


def _dataset_like(spec):
    # "owner/name" is how Hugging Face names data sets
    parts = spec.split("/")
    return len(parts) == 2 and all(parts) and "." not in parts[1][-8:]
