#!/usr/bin/env python3
"""PyTorch port of the reference RecTok inference path, for timing against the Java SDK.

Written from docs/tokenizer.md (tokenizer, `models/rectok.py`) and docs/generator.md
(DiT^DH, `models/DDT.py` + `models/layers.py`), the way the official PyTorch code computes it on
torch 1.13 (no fused SDPA, no nn.RMSNorm: the golden files' stand-ins are the plain float
formulas `softmax(q @ k^T * scale) @ v` and `x * rsqrt(mean(x^2) + eps) * w`, used here too).

Subcommands:
  check-golden DIR      numerics against golden/public (case1 tokenizer, case3 DiT)
  bench tokenizer|dit   the same workloads and output lines as `rectok bench tokenizer|dit`

Run with Debian's python3-torch (LibTorch 1.13 + OpenBLAS, the same libraries as the SDK's shim),
i.e. /usr/bin/python3. Threading: --threads sets torch.set_num_threads (default: all cores, as the
SDK does). Environment such as OMP_WAIT_POLICY and MALLOC_* must be set by the caller
(bench/reference/compare.sh sets the same values the SDK's NativeLibrary applies).
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# ------------------------------------------------------------------ shared pieces


def sdpa(q, k, v, scale):
    """torch 1.13 has no F.scaled_dot_product_attention: the math path the golden stub uses."""
    attn = (q @ k.transpose(-2, -1)) * scale
    attn = attn.softmax(dim=-1)
    return attn @ v


def rotate_half(x):
    # rearrange(x, "... (d r) -> ... d r", r=2); unbind; stack((-x2, x1)); "... d r -> ... (d r)"
    x = x.reshape(*x.shape[:-1], x.shape[-1] // 2, 2)
    x1, x2 = x.unbind(dim=-1)
    x = torch.stack((-x2, x1), dim=-1)
    return x.flatten(-2)


class Rearrange(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


class TokRMSNorm(nn.Module):
    """nn.RMSNorm stand-in (torch 1.13 lacks it): x * rsqrt(mean(x^2) + eps) * weight."""

    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class SwiGLUFFN(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.w12 = nn.Linear(dim, 2 * hidden)
        self.w3 = nn.Linear(hidden, dim)

    def forward(self, x):
        x12 = self.w12(x)
        x1, x2 = x12.chunk(2, dim=-1)
        return self.w3(F.silu(x1) * x2)


# ------------------------------------------------------------------ tokenizer (docs/tokenizer.md)

SIZE_DICT = {
    "tiny": dict(width=192, layers=3, heads=4),
    "small": dict(width=512, layers=8, heads=8),
    "base": dict(width=768, layers=12, heads=12),
    "large": dict(width=1024, layers=24, heads=16),
    "xl": dict(width=1152, layers=28, heads=16),
    "huge": dict(width=1280, layers=32, heads=16),
}


def get_rope_tensor(head_dim, seq_h, seq_w, max_freq=7.0, min_freq=7e-4):
    """docs/tokenizer.md#rope (+ docs/quirks.md#linspace): (1, L, 2*head_dim) = [cos | sin], the DeTok/RecTok quirk included."""
    k = head_dim // 4
    half = head_dim // 2
    freqs_1d = max_freq * (max_freq / min_freq) ** torch.linspace(0, -1, k)
    f2 = torch.cat([freqs_1d, freqs_1d])
    zeros = torch.zeros(half)
    freqs_2d = torch.stack([torch.cat([f2, zeros]), torch.cat([zeros, f2])], 0) * 2 * math.pi
    coords = torch.cartesian_prod(torch.linspace(0, 1, seq_h), torch.linspace(0, 1, seq_w))
    angle = coords @ freqs_2d
    return torch.cat([angle.cos(), angle.sin()], dim=-1).unsqueeze(0)


def apply_rotary_emb(x, rope):
    # x (B, H, N, D); rope (1 or B, N, 2D)
    cos, sin = rope.unsqueeze(1).chunk(2, dim=-1)
    return x * cos + rotate_half(x) * sin


class TokAttention(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, rope):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        q = apply_rotary_emb(q, rope)
        k = apply_rotary_emb(k, rope)
        x = sdpa(q, k, v, self.scale)
        x = x.transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class TokBlock(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.norm1 = TokRMSNorm(dim)
        self.norm2 = TokRMSNorm(dim)
        self.attn = TokAttention(dim, num_heads)
        self.mlp = SwiGLUFFN(dim, int(2 / 3 * dim * 4.0))

    def forward(self, x, rope):
        x = x + self.attn(self.norm1(x), rope)
        x = x + self.mlp(self.norm2(x))
        return x


class Encoder(nn.Module):
    def __init__(self, size, img_size, patch_size, token_channels):
        super().__init__()
        width, layers, heads = size["width"], size["layers"], size["heads"]
        self.grid = img_size // patch_size
        seq = self.grid * self.grid
        self.positional_embedding = nn.Parameter(torch.randn(1, seq, width) * width ** -0.5)
        self.patch_embed = nn.Sequential(
            nn.Conv2d(3, width, patch_size, patch_size),
            Rearrange(lambda t: t.flatten(2).transpose(1, 2)))  # "b c h w -> b (h w) c"
        self.ln_pre = TokRMSNorm(width)
        self.transformer = nn.ModuleList([TokBlock(width, heads) for _ in range(layers)])
        self.ln_post = TokRMSNorm(width)
        self.latent_head = nn.Linear(width, 2 * token_channels)
        self.register_buffer("rope_tensor", get_rope_tensor(width // heads, self.grid, self.grid), persistent=False)

    def forward(self, x, probe=None):
        x = self.patch_embed(x)
        if probe is not None:
            probe["debug.encoder.patch_embed"] = x
        x = x + self.positional_embedding
        x = self.ln_pre(x)
        for i, blk in enumerate(self.transformer):
            x = blk(x, self.rope_tensor)
            if probe is not None:
                probe[f"debug.encoder.block{i}"] = x
        x = self.ln_post(x)
        if probe is not None:
            probe["debug.encoder.ln_post"] = x
        return self.latent_head(x)


class Decoder(nn.Module):
    def __init__(self, size, img_size, patch_size, token_channels):
        super().__init__()
        width, layers, heads = size["width"], size["layers"], size["heads"]
        g = self.grid = img_size // patch_size
        p = patch_size
        seq = g * g
        self.positional_embedding = nn.Parameter(torch.randn(1, seq, width) * width ** -0.5)
        self.mask_token = nn.Parameter(torch.randn(1, 1, width) * width ** -0.5)
        self.decoder_embed = nn.Linear(token_channels, width)
        self.ln_pre = TokRMSNorm(width)
        self.transformer = nn.ModuleList([TokBlock(width, heads) for _ in range(layers)])
        self.ln_post = TokRMSNorm(width)
        # "b (h w) c -> b c h w"; 1x1 conv; "b (p1 p2 c) h w -> b c (h p1) (w p2)" (einops: view,
        # permute, reshape)
        self.ffn = nn.Sequential(
            Rearrange(lambda t: t.transpose(1, 2).reshape(t.shape[0], t.shape[2], g, g)),
            nn.Conv2d(width, p * p * 3, 1),
            Rearrange(lambda t: t.reshape(t.shape[0], p, p, 3, g, g).permute(0, 3, 4, 1, 5, 2)
                      .reshape(t.shape[0], 3, g * p, g * p)))
        self.conv_out = nn.Conv2d(3, 3, 3, padding=1)
        self.register_buffer("rope_tensor", get_rope_tensor(width // heads, g, g), persistent=False)

    def forward(self, z, probe=None):
        x = self.decoder_embed(z)
        if probe is not None:
            probe["debug.decoder.decoder_embed"] = x
        x = x + self.positional_embedding
        x = self.ln_pre(x)
        for i, blk in enumerate(self.transformer):
            x = blk(x, self.rope_tensor)
            if probe is not None:
                probe[f"debug.decoder.block{i}"] = x
        x = self.ln_post(x)
        if probe is not None:
            probe["debug.decoder.ln_post"] = x
        x = self.ffn(x)
        if probe is not None:
            probe["debug.decoder.ffn"] = x
        return self.conv_out(x)


class RecTok(nn.Module):
    """Inference path: encoder, posterior mean, normalize, (de)tokenize, decoder."""

    def __init__(self, enc_size, dec_size, img_size=256, patch_size=16, token_channels=128):
        super().__init__()
        self.token_channels = token_channels
        self.grid = img_size // patch_size
        self.encoder = Encoder(enc_size, img_size, patch_size, token_channels)
        self.decoder = Decoder(dec_size, img_size, patch_size, token_channels)
        self.register_buffer("mean", torch.zeros(1, 1, token_channels), persistent=False)
        self.register_buffer("std", torch.ones(1, 1, token_channels), persistent=False)
        self.scale_factor = 1.0

    def reset_stats(self, mean, std):
        self.mean = mean.reshape(1, 1, -1).clone()
        self.std = std.reshape(1, 1, -1).clone()

    def encode(self, x):
        z = self.encoder(x)
        mean, logvar = z.chunk(2, dim=-1)  # DiagonalGaussianDistribution(parameters)
        logvar = torch.clamp(logvar, -30.0, 20.0)
        std = torch.exp(0.5 * logvar)
        return z, mean, logvar, std

    def normalize_z(self, z):
        return (z - self.mean) * self.scale_factor / self.std

    def denormalize_z(self, z):
        return z * self.std / self.scale_factor + self.mean

    def tokenize(self, x):
        _, mean, _, _ = self.encode(x)
        z = self.normalize_z(mean)
        b, n, c = z.shape
        return z.transpose(1, 2).reshape(b, c, self.grid, self.grid)  # "b (h w) c -> b c h w"

    def detokenize(self, tokens):
        b, c = tokens.shape[:2]
        z = self.denormalize_z(tokens.reshape(b, c, -1).transpose(1, 2))  # "b c h w -> b (h w) c"
        x = self.decoder(z)
        return torch.clamp(x * 0.5 + 0.5, 0.0, 1.0)

    def reconstruct(self, x):
        return self.detokenize(self.tokenize(x))


def rectok_BB(**kw):
    return RecTok(SIZE_DICT["base"], SIZE_DICT["base"], **kw)


# ------------------------------------------------------------------ DiT^DH (docs/generator.md)


class DiTRMSNorm(nn.Module):
    """models/layers.py RMSNorm: normalise in fp32, cast back, times weight."""

    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def _norm(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)

    def forward(self, x):
        return self._norm(x.float()).type_as(x) * self.weight


def modulate(x, shift, scale):
    return x * (1 + scale) + shift


class VisionRotaryEmbeddingFast(nn.Module):
    """EVA-style 2D RoPE (DDTVisionRotaryEmbeddingFast), dim = head_dim / 2, theta 10000."""

    def __init__(self, dim, pt_seq_len=16, theta=10000):
        super().__init__()
        freqs = 1.0 / (theta ** (torch.arange(0, dim, 2)[: (dim // 2)].float() / dim))
        t = torch.arange(pt_seq_len).float()
        freqs = torch.einsum("..., f -> ... f", t, freqs)
        freqs = freqs.repeat_interleave(2, dim=-1)  # "... n -> ... (n r)", r=2
        n = pt_seq_len
        freqs = torch.cat([freqs[:, None, :].expand(n, n, -1), freqs[None, :, :].expand(n, n, -1)], dim=-1)
        self.register_buffer("freqs_cos", freqs.cos().view(-1, freqs.shape[-1]))
        self.register_buffer("freqs_sin", freqs.sin().view(-1, freqs.shape[-1]))

    def forward(self, t):
        return t * self.freqs_cos + rotate_half(t) * self.freqs_sin


class NormAttention(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.q_norm = nn.Identity()
        self.k_norm = nn.Identity()
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, rope):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        q, k = self.q_norm(q), self.k_norm(k)
        q = rope(q)
        k = rope(k)
        x = sdpa(q, k, v, self.scale)
        x = x.transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class LightningDDTBlock(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio=4.0):
        super().__init__()
        self.norm1 = DiTRMSNorm(dim)
        self.norm2 = DiTRMSNorm(dim)
        self.attn = NormAttention(dim, num_heads)
        self.mlp = SwiGLUFFN(dim, int(2 / 3 * dim * mlp_ratio))
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))

    def forward(self, x, c, feat_rope):
        if c.dim() < x.dim():
            c = c.unsqueeze(1)
        shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = self.adaLN_modulation(c).chunk(6, dim=-1)
        x = x + gate_msa * self.attn(modulate(self.norm1(x), shift_msa, scale_msa), feat_rope)
        x = x + gate_mlp * self.mlp(modulate(self.norm2(x), shift_mlp, scale_mlp))
        return x


class DDTFinalLayer(nn.Module):
    def __init__(self, hidden, out_channels):
        super().__init__()
        self.norm_final = DiTRMSNorm(hidden)
        self.linear = nn.Linear(hidden, out_channels)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(hidden, 2 * hidden))

    def forward(self, x, c):
        if c.dim() < x.dim():
            c = c.unsqueeze(1)
        shift, scale = self.adaLN_modulation(c).chunk(2, dim=-1)
        return self.linear(modulate(self.norm_final(x), shift, scale))


class PatchEmbed(nn.Module):
    def __init__(self, in_chans, embed_dim):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, embed_dim, 1, 1)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class GaussianFourierEmbedding(nn.Module):
    def __init__(self, hidden, embedding_size=256, scale=1.0):
        super().__init__()
        self.W = nn.Parameter(torch.randn(embedding_size) * scale, requires_grad=False)
        self.mlp = nn.Sequential(nn.Linear(2 * embedding_size, hidden), nn.SiLU(), nn.Linear(hidden, hidden))

    def forward(self, t):
        t = t[:, None] * self.W[None, :] * 2 * np.pi
        return self.mlp(torch.cat([torch.sin(t), torch.cos(t)], dim=-1))


class LabelEmbedder(nn.Module):
    def __init__(self, num_classes, hidden, dropout_prob):
        super().__init__()
        self.embedding_table = nn.Embedding(num_classes + (1 if dropout_prob > 0 else 0), hidden)

    def forward(self, labels, train):
        return self.embedding_table(labels)


def get_2d_sincos_pos_embed(embed_dim, grid_size):
    grid_h = np.arange(grid_size, dtype=np.float32)
    grid_w = np.arange(grid_size, dtype=np.float32)
    grid = np.stack(np.meshgrid(grid_w, grid_h), axis=0).reshape(2, 1, grid_size, grid_size)

    def one(d, pos):
        omega = np.arange(d // 2, dtype=np.float64) / (d / 2.0)
        omega = 1.0 / 10000 ** omega
        out = np.einsum("m,d->md", pos.reshape(-1), omega)
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)

    return np.concatenate([one(embed_dim // 2, grid[0]), one(embed_dim // 2, grid[1])], axis=1)


class DiTwDDTHead(nn.Module):
    def __init__(self, input_size=16, token_channels=128, hidden_size=(1152, 2048), depth=(28, 2),
                 num_heads=(16, 16), mlp_ratio=4.0, num_classes=1000, label_dropout_prob=0.1):
        super().__init__()
        de, dd = hidden_size
        self.input_size = input_size
        self.out_channels = token_channels
        self.num_encoder_blocks = depth[0]
        self.num_blocks = depth[0] + depth[1]
        self.x_embedder = PatchEmbed(token_channels, dd)
        self.s_embedder = PatchEmbed(token_channels, de)
        self.s_projector = nn.Linear(de, dd) if de != dd else nn.Identity()
        self.t_embedder = GaussianFourierEmbedding(de)
        self.y_embedder = LabelEmbedder(num_classes, de, label_dropout_prob)
        self.final_layer = DDTFinalLayer(dd, token_channels)
        n = input_size * input_size
        self.pos_embed = nn.Parameter(torch.from_numpy(get_2d_sincos_pos_embed(de, input_size)).float()
                                      .unsqueeze(0), requires_grad=False)
        self.enc_feat_rope = VisionRotaryEmbeddingFast(de // num_heads[0] // 2, input_size)
        self.dec_feat_rope = VisionRotaryEmbeddingFast(dd // num_heads[1] // 2, input_size)
        self.blocks = nn.ModuleList([
            LightningDDTBlock(de if i < depth[0] else dd, num_heads[0] if i < depth[0] else num_heads[1], mlp_ratio)
            for i in range(self.num_blocks)])
        assert self.pos_embed.shape[1] == n

    def unpatchify(self, x):
        c = self.out_channels
        p = 1
        h = w = int(x.shape[1] ** 0.5)
        x = x.reshape(x.shape[0], h, w, p, p, c)
        x = torch.einsum("nhwpqc->nchpwq", x)
        return x.reshape(x.shape[0], c, h * p, h * p)

    def forward(self, x, t, y, probe=None):
        t = self.t_embedder(t)
        y = self.y_embedder(y, self.training)
        if probe is not None:
            probe["debug.t_embedder"] = t
            probe["debug.y_embedder"] = y
        c = F.silu(t + y)
        s = self.s_embedder(x)
        if probe is not None:
            probe["debug.s_embedder"] = s
        s = s + self.pos_embed
        for i in range(self.num_encoder_blocks):
            s = self.blocks[i](s, c, self.enc_feat_rope)
            if probe is not None:
                probe[f"debug.blocks{i}_enc"] = s
        t = t.unsqueeze(1).repeat(1, s.shape[1], 1)
        s = F.silu(t + s)
        s = self.s_projector(s)
        if probe is not None:
            probe["debug.s_projector"] = s
        x = self.x_embedder(x)
        if probe is not None:
            probe["debug.x_embedder"] = x
        for i in range(self.num_encoder_blocks, self.num_blocks):
            x = self.blocks[i](x, s, self.dec_feat_rope)
            if probe is not None:
                probe[f"debug.blocks{i}_head"] = x
        x = self.final_layer(x, s)
        if probe is not None:
            probe["debug.final_layer"] = x
        return self.unpatchify(x)


DIT_PRESETS = {
    "DiTDDT_s": dict(hidden_size=(384, 2048), depth=(12, 2), num_heads=(6, 16)),
    "DiTDDT_b": dict(hidden_size=(768, 2048), depth=(12, 2), num_heads=(12, 16)),
    "DiTDDT_l": dict(hidden_size=(1024, 2048), depth=(24, 2), num_heads=(16, 16)),
    "DiTDDT_xl": dict(hidden_size=(1152, 2048), depth=(28, 2), num_heads=(16, 16)),
}

# ------------------------------------------------------------------ golden check


def read_safetensors(path):
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    dt = {"F32": np.float32, "I64": np.int64, "U8": np.uint8, "F64": np.float64, "I32": np.int32}
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        out[k] = torch.from_numpy(np.frombuffer(data[a:b], dtype=dt[v["dtype"]]).reshape(v["shape"]).copy())
    return out


def rel(a, b):
    return float((a.double() - b.double()).norm() / b.double().norm().clamp_min(1e-30))


def check_golden(root, tol):
    worst = 0.0
    ok = True
    # case 1: tokenizer inference
    d = os.path.join(root, "case1_tokenizer_inference")
    cfg = json.load(open(os.path.join(d, "config.json")))
    kw = cfg["constructor_kwargs"]
    sizes = dict(SIZE_DICT, **cfg["size_dict_additions"])
    tok = RecTok(sizes[kw["vit_enc_model_size"]], sizes[kw["vit_dec_model_size"]], img_size=kw["img_size"],
                 patch_size=kw["patch_size"], token_channels=kw["token_channels"])
    ck = torch.load(os.path.join(d, "weights.pth"), map_location="cpu")
    missing, unexpected = tok.load_state_dict(ck["model_ema"], strict=False)
    unexpected = [u for u in unexpected if not u.startswith("semantic_decoder.")]
    assert not unexpected and not missing, (missing, unexpected)
    tok.eval()
    io = read_safetensors(os.path.join(d, "io.safetensors"))
    tok.reset_stats(io["input.latent_mean"], io["input.latent_std"])
    got = {}
    with torch.no_grad():
        x = io["input.image"]
        got["output.z_full"] = tok.encoder(x, probe=got)
        z, mean, logvar, std = tok.encode(x)
        got["output.posterior_mean"], got["output.posterior_logvar"], got["output.posterior_std"] = mean, logvar, std
        got["output.decoder_out"] = tok.decoder(mean, probe=got)
        tokens = tok.tokenize(x)
        got["output.tokens"] = tokens
        got["output.detokenized"] = tok.detokenize(tokens)
        got["output.reconstruction"] = tok.reconstruct(x)
    for name in sorted(io):
        if name in got:
            e = rel(got[name], io[name])
            worst = max(worst, e)
            flag = "ok" if e <= tol else "FAIL"
            ok &= e <= tol
            print(f"case1 {name:36s} rel {e:.2e} {flag}")
    # case 3: DiT forward
    d = os.path.join(root, "case3_dit_forward")
    cfg = json.load(open(os.path.join(d, "config.json")))
    kw = cfg["constructor_kwargs"]
    net = DiTwDDTHead(input_size=kw["img_size"] // kw["tokenizer_patch_size"], token_channels=kw["token_channels"],
                      hidden_size=tuple(kw["hidden_size"]), depth=tuple(kw["depth"]), num_heads=tuple(kw["num_heads"]),
                      mlp_ratio=kw["mlp_ratio"], num_classes=kw["num_classes"],
                      label_dropout_prob=kw["label_dropout_prob"])
    ck = torch.load(os.path.join(d, "weights.pth"), map_location="cpu")
    # RoPE buffers are recomputed by our constructor; they must equal the reference's.
    for key in ["enc_feat_rope.freqs_cos", "enc_feat_rope.freqs_sin", "dec_feat_rope.freqs_cos", "dec_feat_rope.freqs_sin"]:
        e = rel(net.state_dict()[key], ck["model"][key])
        ok &= e <= 1e-6
        print(f"case3 {key:36s} rel {e:.2e} {'ok' if e <= 1e-6 else 'FAIL'}")
    pe = rel(net.pos_embed.data, ck["model"]["pos_embed"])
    ok &= pe <= 1e-6
    print(f"case3 {'pos_embed (recomputed)':36s} rel {pe:.2e} {'ok' if pe <= 1e-6 else 'FAIL'}")
    missing, unexpected = net.load_state_dict(ck["model_ema"], strict=False)
    assert not unexpected and all("feat_rope" in m for m in missing), (missing, unexpected)
    net.eval()
    io = read_safetensors(os.path.join(d, "io.safetensors"))
    got = {}
    with torch.no_grad():
        got["output.velocity"] = net(io["input.x"], io["input.t"], io["input.y"], probe=got)
    for name in sorted(io):
        if name in got:
            e = rel(got[name], io[name])
            worst = max(worst, e)
            ok &= e <= tol
            print(f"case3 {name:36s} rel {e:.2e} {'ok' if e <= tol else 'FAIL'}")
    print(f"worst relative error {worst:.2e} (tolerance {tol:g}): {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


# ------------------------------------------------------------------ bench (same protocol as rectok bench)


CPU_MS = []


def process_cpu_ms():
    """utime + stime from /proc/self/stat (10 ms ticks): the same source as `rectok bench`."""
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 10.0


def time_it(warmup, iters, body):
    for _ in range(warmup):
        body()
    ms = []
    CPU_MS.clear()
    for _ in range(iters):
        c0 = process_cpu_ms()
        t0 = time.perf_counter_ns()
        body()
        ms.append((time.perf_counter_ns() - t0) / 1e6)
        CPU_MS.append(process_cpu_ms() - c0)
    return ms


def peak_rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int("".join(ch for ch in line if ch.isdigit())) / 1024.0
    return -1


def report(what, batch, ms):
    med = float(np.median(ms))
    print(f"{what}: {[round(x, 1) for x in ms]} ms per forward (median of {len(ms)})")
    print(f"cpu_ms_per_forward={float(np.median(CPU_MS)):.2f}")
    print(f"images_per_second={batch / (med / 1000.0):.4f}")
    print(f"ms_per_forward={med:.2f}")
    print(f"peak_rss_mb={peak_rss_mb():.0f}")


def init_random_(module, gen):
    """Seeded random weights that keep activations in range (timing only)."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.dim() >= 2:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(fan_in))
            elif name.endswith("norm1.weight") or name.endswith("norm2.weight") or "ln_" in name or "norm_final" in name:
                p.fill_(1.0)
            else:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.02)


def bench(args):
    torch.set_num_threads(args.threads or os.cpu_count())
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    if args.what == "tokenizer":
        if args.preset != "rectok_BB":
            raise SystemExit("only rectok_BB is ported")
        model = rectok_BB()
        init_random_(model, gen)
        model.eval()
        x = torch.randn(args.batch, 3, 256, 256, generator=gen)
        z = torch.randn(args.batch, model.grid * model.grid, model.token_channels, generator=gen)

        def body():
            with torch.inference_mode():
                if args.mode == "encode":
                    model.encode(x)
                elif args.mode == "decode":
                    model.decoder(z)
                else:
                    model.reconstruct(x)

        ms = time_it(args.warmup, args.iters, body)
        print(f"{args.preset} {args.mode}, batch {args.batch}, 256x256, {torch.get_num_threads()} threads, cpu (PyTorch reference)")
        report("tokenizer " + args.mode, args.batch, ms)
    elif args.what == "sample":
        # issue 13: one Euler sampling run with AutoGuidance (the reference's generate loop:
        # v = v_guide + w * (v_main - v_guide) on the shifted grid), timed per run
        main_net = DiTwDDTHead(**DIT_PRESETS[args.preset])
        guide_net = DiTwDDTHead(**DIT_PRESETS[args.guide_preset])
        init_random_(main_net, gen)
        init_random_(guide_net, gen)
        main_net.eval()
        guide_net.eval()
        x0 = torch.randn(args.batch, 128, 16, 16, generator=gen)
        y = torch.randint(0, 1000, (args.batch,), generator=gen)
        shift = math.sqrt(128 * 16 * 16 / 4096.0)
        grid = torch.linspace(0, 1, args.steps)
        grid = shift * grid / (1 + (shift - 1) * grid)

        def body():
            with torch.inference_mode():
                x = x0.clone()
                for i in range(args.steps - 1):
                    tb = torch.full((args.batch,), float(grid[i]))
                    vg = guide_net(x, tb, y)
                    vm = main_net(x, tb, y)
                    x = x + (grid[i + 1] - grid[i]) * (vg + 1.29 * (vm - vg))

        ms = time_it(args.warmup, args.iters, body)
        print(f"{args.preset} + AutoGuidance {args.guide_preset}, batch {args.batch}, {args.steps - 1} steps, "
              f"{torch.get_num_threads()} threads, cpu (PyTorch reference)")
        report("sample run", args.batch, ms)
        print(f"ms_per_sample_run={float(np.median(ms)):.1f}")
    else:
        model = DiTwDDTHead(**DIT_PRESETS[args.preset])
        init_random_(model, gen)
        model.eval()
        x = torch.randn(args.batch, 128, 16, 16, generator=gen)
        t = torch.rand(args.batch, generator=gen)
        y = torch.randint(0, 1000, (args.batch,), generator=gen)

        def body():
            with torch.inference_mode():
                model(x, t, y)

        ms = time_it(args.warmup, args.iters, body)
        print(f"{args.preset}, batch {args.batch}, latent 128x16x16, {torch.get_num_threads()} threads, cpu (PyTorch reference)")
        report("dit forward", args.batch, ms)
    if args.profile:
        with torch.autograd.profiler.profile() as prof:
            body()
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.profile))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("check-golden")
    g.add_argument("dir", nargs="?", default=os.path.join(os.path.dirname(__file__), "../../golden/public"))
    g.add_argument("--tol", type=float, default=1e-5)
    b = sub.add_parser("bench")
    b.add_argument("what", choices=["tokenizer", "dit", "sample"])
    b.add_argument("--guide-preset", default="DiTDDT_s", help="sample: the AutoGuidance network")
    b.add_argument("--steps", type=int, default=150, help="sample: time-grid points (steps + 1)")
    b.add_argument("--preset")
    b.add_argument("--batch", type=int, default=1)
    b.add_argument("--iters", type=int, default=5)
    b.add_argument("--mode", default="both", choices=["encode", "decode", "both"])
    b.add_argument("--threads", type=int)
    b.add_argument("--warmup", type=int, default=1, help="untimed iterations first (as rectok bench --warmup)")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--profile", type=int, default=0, help="print the op profile of one more forward (top N rows)")
    a = ap.parse_args()
    if a.cmd == "check-golden":
        return check_golden(a.dir, a.tol)
    if a.preset is None:
        a.preset = "rectok_BB" if a.what == "tokenizer" else "DiTDDT_xl" if a.what == "sample" else "DiTDDT_s"
    return bench(a)


if __name__ == "__main__":
    sys.exit(main())
