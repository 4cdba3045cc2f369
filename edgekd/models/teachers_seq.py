"""Sequence teachers: a Transformer encoder over signal patches, a U-Sleep-style
encoder–decoder for long windows, and a GPT-2-style transformer that can start from locally
stored Hugging Face GPT-2 weights (never downloaded at run time)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from torch import nn

from edgekd.errors import ConfigError
from edgekd.models.base import EdgeModel, register_model
from edgekd.models.layers import GlobalAvgPool


class PatchEmbed(nn.Module):
    """(B, C, T) → (B, n_patches, d): non-overlapping patches, zero-padded at the start."""

    def __init__(self, n_chans: int, n_times: int, patch: int, d_model: int):
        super().__init__()
        self.patch = patch
        self.n_patches = math.ceil(n_times / patch)
        self.pad = self.n_patches * patch - n_times
        self.proj = nn.Conv1d(n_chans, d_model, patch, stride=patch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pad:
            x = nn.functional.pad(x, (self.pad, 0))
        return self.proj(x).transpose(1, 2)


@register_model("transformer", "teacher", tiny=dict(d_model=16, layers=1, heads=2),
                d_model=128, layers=4, heads=4, patch_ms=25.0, dropout=0.1)
class PatchTransformer(EdgeModel):
    """Transformer encoder (pre-norm) over signal patches with a class token."""

    def __init__(self, *, d_model: int, layers: int, heads: int, patch_ms: float, dropout: float,
                 **shape):
        super().__init__(**shape)
        patch = max(1, int(round(patch_ms * self.sfreq / 1000)))
        self.embed = PatchEmbed(self.n_chans, self.n_times, patch, d_model)
        self.cls = nn.Parameter(torch.zeros(1, 1, d_model))
        self.pos = nn.Parameter(torch.randn(1, self.embed.n_patches + 1, d_model) * 0.02)
        layer = nn.TransformerEncoderLayer(d_model, heads, 4 * d_model, dropout,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, self.n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.embed(x)
        z = torch.cat([self.cls.expand(z.shape[0], -1, -1), z], dim=1) + self.pos
        return self.head(self.norm(self.encoder(z)[:, 0]))


class _UpBlock(nn.Module):
    def __init__(self, c_in: int, c_skip: int, c_out: int, k: int):
        super().__init__()
        self.up = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                nn.Conv1d(c_in, c_out, k, padding=k // 2), nn.ELU(),
                                nn.BatchNorm1d(c_out))
        self.conv = nn.Sequential(nn.Conv1d(c_out + c_skip, c_out, k, padding=k // 2), nn.ELU(),
                                  nn.BatchNorm1d(c_out))

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat([self.up(x), skip], dim=1))


@register_model("usleep", "teacher", tiny=dict(width=4, depth=2), width=16, depth=4, kernel=9,
                growth=1.5)
class USleep(EdgeModel):
    """U-Sleep-style (Perslev et al. 2021) fully convolutional encoder–decoder with skips; the
    decoded sequence is pooled to one decision per window. Suited to long windows."""

    def __init__(self, *, width: int, depth: int, kernel: int, growth: float, **shape):
        super().__init__(**shape)
        self.multiple = 2 ** depth
        widths = [int(width * growth ** i) for i in range(depth + 1)]
        self.down = nn.ModuleList()
        c = self.n_chans
        for w in widths[:-1]:
            self.down.append(nn.Sequential(nn.Conv1d(c, w, kernel, padding=kernel // 2), nn.ELU(),
                                           nn.BatchNorm1d(w)))
            c = w
        self.bottom = nn.Sequential(nn.Conv1d(c, widths[-1], kernel, padding=kernel // 2),
                                    nn.ELU(), nn.BatchNorm1d(widths[-1]))
        self.up = nn.ModuleList([_UpBlock(widths[i + 1], widths[i], widths[i], kernel)
                                 for i in reversed(range(depth))])
        self.pool = GlobalAvgPool()
        self.head = nn.Linear(widths[0], self.n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad = (-x.shape[-1]) % self.multiple
        x = nn.functional.pad(x, (pad, 0))
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
            x = nn.functional.max_pool1d(x, 2)
        x = self.bottom(x)
        for block, skip in zip(self.up, reversed(skips)):
            x = block(x, skip)
        return self.head(self.pool(x))


class _HFConv1D(nn.Module):
    """Hugging Face GPT-2's Conv1D: a linear layer whose weight is stored [in, out]."""

    def __init__(self, n_in: int, n_out: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * 0.02)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight + self.bias


class _GPT2Attention(nn.Module):
    def __init__(self, d: int, heads: int):
        super().__init__()
        self.heads = heads
        self.c_attn = _HFConv1D(d, 3 * d)
        self.c_proj = _HFConv1D(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.c_attn(x).split(d, dim=2)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        y = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).reshape(b, t, d))


class _GPT2Block(nn.Module):
    def __init__(self, d: int, heads: int):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d, eps=1e-5)
        self.attn = _GPT2Attention(d, heads)
        self.ln_2 = nn.LayerNorm(d, eps=1e-5)
        self.mlp = nn.Module()
        self.mlp.c_fc = _HFConv1D(d, 4 * d)
        self.mlp.c_proj = _HFConv1D(4 * d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        h = nn.functional.gelu(self.mlp.c_fc(self.ln_2(x)), approximate="tanh")
        return x + self.mlp.c_proj(h)


@register_model("gpt2", "teacher", tiny=dict(n_embd=16, n_layer=1, n_head=2), n_embd=768,
                n_layer=12, n_head=12, n_positions=0, patch_ms=25.0, pretrained=None)
class GPT2Teacher(EdgeModel):
    """GPT-2-style causal transformer over signal patches, classifying from the last patch.
    ``pretrained`` = a local Hugging Face GPT-2 folder (config.json + pytorch_model.bin or
    model.safetensors): its blocks, positions and final norm are loaded (token embeddings are
    not used; patches are projected instead). Nothing is downloaded."""

    restore_drop = ("pretrained",)  # a checkpoint holds the weights; the folder is not needed

    @classmethod
    def resolve_hparams(cls, hparams: dict) -> dict:
        if hparams.get("pretrained"):
            hparams = {**hparams, **_read_hf_config(hparams["pretrained"])}
        return hparams

    def __init__(self, *, n_embd: int, n_layer: int, n_head: int, n_positions: int,
                 patch_ms: float, pretrained: str | None, **shape):
        super().__init__(**shape)
        patch = max(1, int(round(patch_ms * self.sfreq / 1000)))
        self.embed = PatchEmbed(self.n_chans, self.n_times, patch, n_embd)
        self.wpe = nn.Embedding(max(self.embed.n_patches, n_positions), n_embd)
        self.h = nn.ModuleList([_GPT2Block(n_embd, n_head) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd, eps=1e-5)
        self.head = nn.Linear(n_embd, self.n_outputs)
        if pretrained:
            load_hf_gpt2(self, Path(pretrained))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.embed(x)
        z = z + self.wpe.weight[: z.shape[1]]
        for block in self.h:
            z = block(z)
        return self.head(self.ln_f(z)[:, -1])


def _read_hf_config(folder: str) -> dict:
    path = Path(folder) / "config.json"
    if not path.is_file():
        raise ConfigError(f"pretrained GPT-2 folder {folder!r} has no config.json (expected a "
                          "local Hugging Face GPT-2 download; nothing is fetched at run time)")
    cfg = json.loads(path.read_text())
    return {"n_embd": cfg["n_embd"], "n_layer": cfg["n_layer"], "n_head": cfg["n_head"],
            "n_positions": cfg.get("n_positions", 1024)}


def load_hf_gpt2(model: GPT2Teacher, folder: Path) -> list[str]:
    """Copy GPT-2 block, position and final-norm weights from a HF folder; returns the loaded
    parameter names. Raises ConfigError naming the file when the weights do not fit."""
    state = _read_hf_state(folder)
    state = {k.removeprefix("transformer."): v for k, v in state.items()}
    ours = model.state_dict()
    wanted = [k for k in ours if k.startswith(("h.", "ln_f.", "wpe."))]
    missing = [k for k in wanted if k not in state]
    if missing:
        raise ConfigError(f"{folder}: weights lack {missing[:3]}... ({len(missing)} missing)")
    update = {k: state[k].to(ours[k].dtype) for k in wanted if k != "wpe.weight"}
    wpe = ours["wpe.weight"].clone()  # more patches than pretrained positions: keep the rest
    rows = min(len(wpe), len(state["wpe.weight"]))
    wpe[:rows] = state["wpe.weight"][:rows]
    update["wpe.weight"] = wpe
    bad = [k for k, v in update.items() if v.shape != ours[k].shape]
    if bad:
        raise ConfigError(f"{folder}: shape mismatch for {bad[:3]}")
    model.load_state_dict(update, strict=False)
    return sorted(update)


def _read_hf_state(folder: Path) -> dict:
    if (folder / "model.safetensors").is_file():
        try:
            from safetensors.torch import load_file
        except ImportError:
            raise ConfigError(f"{folder}/model.safetensors needs the safetensors package "
                              "(pip install safetensors)") from None
        return load_file(str(folder / "model.safetensors"))
    if (folder / "pytorch_model.bin").is_file():
        return torch.load(folder / "pytorch_model.bin", map_location="cpu", weights_only=True)
    raise ConfigError(f"{folder}: no model.safetensors or pytorch_model.bin")
