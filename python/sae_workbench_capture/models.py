"""Loading a model (Hugging Face, TransformerLens or any torch.nn.Module from `module:factory`) and
capturing activations at sites with forward hooks.

A site is a module path inside the model, optionally suffixed ":input" or ":output" (the default).
TransformerLens hook names (`blocks.8.hook_resid_pre`) are module paths of its HookPoint modules, so the
same forward hooks serve every kind of model.
"""
import difflib
import importlib
import os
import re
import sys

import torch

from .tokenizers import ByteTokenizer, HfTokenizer, load_tokenizer

DTYPES = {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16, "fp16": torch.float16,
          "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}
DTYPE_NAMES = {torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16"}

_FACTORY = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class SpecError(Exception):
    """Bad user input: the message is the one line shown to the user."""


class LoadedModel:
    def __init__(self, model, tokenizer, kind, name, forward):
        self.model = model
        self.tokenizer = tokenizer
        self.kind = kind
        self.name = name
        self.forward = forward  # (input_ids [B, T] long, attention_mask [B, T] long) -> None

    def facts(self) -> dict:
        p = next(self.model.parameters(), None)
        return {"name": self.name, "kind": self.kind, "class": type(self.model).__name__,
                "dtype": DTYPE_NAMES.get(p.dtype, str(p.dtype)) if p is not None else None}

    def unembedding(self):
        """W_U as [d_model, d_vocab] (TransformerLens orientation), or None when the model has none."""
        m = self.model
        w = getattr(m, "W_U", None)
        if isinstance(w, torch.Tensor) and w.dim() == 2:
            return w.detach()
        head = None
        if hasattr(m, "get_output_embeddings"):
            try:
                head = m.get_output_embeddings()
            except (AttributeError, NotImplementedError):
                head = None
        for attr in ("lm_head", "unembed"):
            if head is None:
                head = getattr(m, attr, None)
        if isinstance(head, torch.nn.Linear):
            return head.weight.detach().t()
        w = getattr(head, "W_U", None)
        if isinstance(w, torch.Tensor) and w.dim() == 2:
            return w.detach()
        return None


def _import_factory(spec):
    mod_name, fn_name = spec.split(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(mod_name)
    except ImportError as e:
        raise SpecError(f"model '{spec}': cannot import module '{mod_name}' ({e}); run from the folder that holds it or add it to PYTHONPATH") from None
    factory = getattr(module, fn_name, None)
    if not callable(factory):
        raise SpecError(f"model '{spec}': module '{mod_name}' has no callable '{fn_name}'")
    return factory


def load_model(spec, kind, device, model_dtype, tokenizer_spec):
    """kind: auto | module | huggingface | transformer_lens."""
    torch_dtype = DTYPES[model_dtype] if model_dtype != "auto" else None
    if kind == "auto":
        kind = "module" if _FACTORY.match(spec) and not os.path.exists(spec) else "huggingface"
    if kind == "module":
        if not _FACTORY.match(spec):
            raise SpecError(f"model '{spec}': expected module:factory, e.g. mypkg.models:make_model")
        factory = _import_factory(spec)
        try:
            model = factory()
        except Exception as e:  # noqa: BLE001 - the user's code: say what it raised, in one line
            raise SpecError(f"model '{spec}': the factory raised {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from None
        if not isinstance(model, torch.nn.Module):
            raise SpecError(f"model '{spec}': the factory returned {type(model).__name__}, not a torch.nn.Module")
        tok = load_tokenizer(tokenizer_spec or "bytes")
        forward = lambda ids, mask: model(ids)  # noqa: E731 - right padding: a causal model's kept rows never see it
    elif kind == "huggingface":
        try:
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            raise SpecError(f"model '{spec}': loading a Hugging Face model needs the transformers package, which is not installed for {sys.executable} (or give module:factory)") from None
        try:
            model = AutoModelForCausalLM.from_pretrained(spec, torch_dtype=torch_dtype)
            tok = load_tokenizer(tokenizer_spec) if tokenizer_spec else HfTokenizer(AutoTokenizer.from_pretrained(spec))
        except (OSError, ValueError) as e:
            raise SpecError(f"model '{spec}': {str(e).splitlines()[0]}") from None
        forward = lambda ids, mask: model(input_ids=ids, attention_mask=mask, use_cache=False)  # noqa: E731
    elif kind == "transformer_lens":
        try:
            from transformer_lens import HookedTransformer
        except ImportError:
            raise SpecError(f"model '{spec}': a TransformerLens model needs the transformer_lens package, which is not installed for {sys.executable}") from None
        try:
            model = HookedTransformer.from_pretrained(spec, device=device, dtype=torch_dtype or torch.float32)
        except (OSError, ValueError) as e:
            raise SpecError(f"model '{spec}': {str(e).splitlines()[0]}") from None
        tok = load_tokenizer(tokenizer_spec) if tokenizer_spec else HfTokenizer(model.tokenizer)
        forward = lambda ids, mask: model(ids, return_type=None)  # noqa: E731 - hooks collect; no logits needed
    else:
        raise SpecError(f"unknown model kind '{kind}'")
    if torch_dtype is not None and kind == "module":
        model = model.to(torch_dtype)
    model.to(device)
    model.eval()
    return LoadedModel(model, tok, kind, spec, forward)


class Site:
    def __init__(self, spec, module, where):
        self.name = spec
        self.module = module
        self.where = where  # "input" | "output"


def resolve_sites(model, specs):
    sites = []
    names = None
    for spec in specs:
        path, where = spec, "output"
        if ":" in spec:
            path, where = spec.rsplit(":", 1)
            if where not in ("input", "output"):
                raise SpecError(f"site '{spec}': the suffix must be ':input' or ':output'")
        try:
            module = model.get_submodule(path)
        except AttributeError:
            names = names or [n for n, _ in model.named_modules() if n]
            close = difflib.get_close_matches(path, names, n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else f"; the model's modules include {', '.join(names[:6])}"
            raise SpecError(f"site '{spec}': {type(model).__name__} has no hook point or module named '{path}'{hint}") from None
        sites.append(Site(spec, module, where))
    if len({s.name for s in sites}) != len(sites):
        raise SpecError("sites: the same site is named twice")
    return sites


class _AllSitesSeen(Exception):
    """Raised from a hook once every site has fired: the rest of the forward pass is not needed."""


class SiteRecorder:
    """Forward hooks that keep each site's [B, T, d] activation for the current batch."""

    def __init__(self, sites, early_stop=True):
        self.sites = sites
        self.early_stop = early_stop
        self.values = {}
        self.handles = []
        for site in sites:
            if site.where == "output":
                self.handles.append(site.module.register_forward_hook(self._out_hook(site)))
            else:
                try:  # torch >= 2.0 also passes keyword arguments (HF layers may get hidden_states=...)
                    self.handles.append(site.module.register_forward_pre_hook(self._in_hook(site), with_kwargs=True))
                except TypeError:
                    self.handles.append(site.module.register_forward_pre_hook(self._in_hook(site)))

    def _store(self, site, value):
        if isinstance(value, (tuple, list)):
            value = value[0] if value else None
        if not isinstance(value, torch.Tensor):
            raise SpecError(f"site '{site.name}': the module's {site.where} is {type(value).__name__}, not a tensor")
        if site.name not in self.values:  # a module called twice in one pass: its first call is the site
            self.values[site.name] = value.detach()
        if self.early_stop and len(self.values) == len(self.sites):
            raise _AllSitesSeen()

    def _out_hook(self, site):
        return lambda module, inputs, output: self._store(site, output)

    def _in_hook(self, site):
        def hook(module, inputs, kwargs=None):
            if inputs:
                value = inputs[0]
            else:  # called with keywords only: the first tensor argument is the input
                value = next((v for v in (kwargs or {}).values() if isinstance(v, torch.Tensor)), None)
            self._store(site, value)
        return hook

    def run(self, loaded, ids, mask):
        self.values = {}
        try:
            with torch.no_grad():
                loaded.forward(ids, mask)
        except _AllSitesSeen:
            pass
        missing = [s.name for s in self.sites if s.name not in self.values]
        if missing:
            raise SpecError(f"site '{missing[0]}': the module was not called during the forward pass")
        B, T = ids.shape
        out = {}
        for site in self.sites:
            v = self.values[site.name]
            if v.dim() < 3 or v.shape[0] != B or v.shape[1] != T:
                raise SpecError(f"site '{site.name}': activation has shape {list(v.shape)}, expected [batch {B}, positions {T}, ...]")
            out[site.name] = v.reshape(B, T, -1)
        self.values = {}
        return out

    def close(self):
        for h in self.handles:
            h.remove()
