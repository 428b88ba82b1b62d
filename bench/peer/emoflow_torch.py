"""EmoFlow in PyTorch: the same denoiser, samplers and GRPO step as the TypeScript SDK.

Loads the weights written by bench/peer/export.ts (named float32 arrays in tfjs layouts:
linear weights [in, out], convolution kernels [k, k, in, out]) and runs NCHW internally.
Mirrors packages/core/src/generator/emoflow-model.ts, layers.ts, samplers/sde.ts and
packages/rl/src/grpo.ts operation for operation.
"""

import base64
import json
import math

import numpy as np
import torch
import torch.nn.functional as F

LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))


def decode_array(entry):
    shape, b64 = entry
    data = np.frombuffer(base64.b64decode(b64), dtype=np.float32).copy()
    return torch.from_numpy(data.reshape(shape) if shape else data)


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class EmoFlowTorch:
    """The EmoFlow velocity network with optional LoRA adapters (scale alpha / rank)."""

    def __init__(self, exported):
        self.config = exported["config"]
        self.lora_scale = exported.get("loraScale", 1.0)
        self.params = {name: decode_array(e) for name, e in exported["weights"].items()}
        self.adapters = {name: decode_array(e) for name, e in exported.get("adapters", {}).items()}
        self.adapters_enabled = True
        # Convolution kernels in torch's [out, in, k, k] layout, built once.
        self.conv_cache = {}

    # --- parameters -------------------------------------------------------------------------
    def base_parameters(self):
        return list(self.params.values())

    def adapter_parameters(self):
        return list(self.adapters.values())

    def set_requires_grad(self, base, adapters):
        for p in self.params.values():
            p.requires_grad_(base)
        for p in self.adapters.values():
            p.requires_grad_(adapters)
        self.conv_cache = {}

    def conv_weight(self, name):
        w = self.params[f"{name}.weight"]
        if w.requires_grad:
            return w.permute(3, 2, 0, 1)
        cached = self.conv_cache.get(name)
        if cached is None:
            cached = w.permute(3, 2, 0, 1).contiguous()
            self.conv_cache[name] = cached
        return cached

    # --- layers -----------------------------------------------------------------------------
    def linear(self, name, x):
        y = x @ self.params[f"{name}.weight"] + self.params[f"{name}.bias"]
        a = self.adapters.get(f"{name}.lora_a")
        if a is not None and self.adapters_enabled:
            y = y + ((x @ a) @ self.adapters[f"{name}.lora_b"]) * self.lora_scale
        return y

    def linear_nchw(self, name, x):
        """A linear layer over the channel axis of an NCHW tensor (a 1×1 convolution)."""
        w = self.params[f"{name}.weight"]
        return F.conv2d(x, w.t()[:, :, None, None], self.params[f"{name}.bias"])

    def conv(self, name, x, stride=1):
        w = self.conv_weight(name)
        k = w.shape[-1]
        if stride == 1:
            return F.conv2d(x, w, self.params[f"{name}.bias"], padding=k // 2)
        # tfjs 'same' padding with stride 2 on an even size pads only bottom/right.
        h = x.shape[-1]
        out = -(-h // stride)
        total = max((out - 1) * stride + k - h, 0)
        lo = total // 2
        x = F.pad(x, (lo, total - lo, lo, total - lo))
        return F.conv2d(x, w, self.params[f"{name}.bias"], stride=stride)

    def group_norm(self, name, x):
        c = x.shape[1]
        g = min(self.config["groups"], c)
        return F.group_norm(x, g, self.params[f"{name}.gamma"], self.params[f"{name}.beta"], eps=1e-5)

    # --- conditioning -----------------------------------------------------------------------
    def encode(self, ids, text_mask, emotion_features, drop=False):
        """ids [n, L] int64, text_mask [n, L], emotion_features [n, F] → (tokens, mask, pooled).
        `drop` gives the null conditioning (no prompt, the learned null emotion tokens)."""
        if drop:
            text_mask = torch.zeros_like(text_mask)
        words = self.params["text.embedding"][ids]
        m3 = text_mask[:, :, None]
        count = torch.clamp(text_mask.sum(1, keepdim=True), min=1)
        text_pooled = (words * m3).sum(1) / count
        text_tokens = (words + self.params["text.position"]) * m3
        n = ids.shape[0]
        k = self.config["emotion"]["tokens"]
        d = self.config["emotion"]["dim"]
        h = F.silu(self.linear("emotion.fc1", emotion_features))
        emo_tokens = self.linear("emotion.fc2", h).reshape(n, k, d)
        if drop:
            emo_tokens = self.params["emotion.null"][None].expand(n, k, d)
        tokens = torch.cat([text_tokens, emo_tokens], 1)
        mask = torch.cat([text_mask, torch.ones(n, k)], 1)
        pooled = torch.cat([text_pooled, emo_tokens.mean(1)], 1)
        return tokens, mask, pooled

    def time_embedding(self, t):
        half = self.config["timeFeatures"] // 2
        freqs = torch.tensor(
            [1000 * math.exp(-math.log(10000) * i / half) for i in range(half)], dtype=torch.float32
        )
        args = t[:, None] * freqs[None, :]
        return torch.cat([torch.sin(args), torch.cos(args)], 1)

    # --- the network ------------------------------------------------------------------------
    def velocity(self, x, t, cond):
        """x [n, 3, S, S] (NCHW), t [n] or a float, cond from encode → v [n, 3, S, S]."""
        tokens, mask, pooled = cond
        n = x.shape[0]
        if not torch.is_tensor(t):
            t = torch.full((n,), float(t))
        c = F.silu(
            self.linear(
                "cond.fc2",
                F.silu(self.linear("cond.fc1", torch.cat([self.time_embedding(t), pooled], 1))),
            )
        )
        bias = ((1 - mask) * -1e4)[:, None, :]

        def res(name, h):
            ch = h.shape[1]
            y = self.conv(f"{name}.conv1", F.silu(self.group_norm(f"{name}.norm1", h)))
            film = self.linear(f"{name}.film", c)
            scale = film[:, :ch, None, None]
            shift = film[:, ch:, None, None]
            y = self.group_norm(f"{name}.norm2", y) * (scale + 1) + shift
            y = self.conv(f"{name}.conv2", F.silu(y))
            return h + y

        def attn(name, h):
            return self.cross_attention(name, h, tokens, bias)

        s0 = self.conv("stem", x)
        s1 = attn("d1.attn", res("d1", self.conv("down0", s0, 2)))
        m = attn("mid.attn", res("mid", self.conv("down1", s1, 2)))
        u1 = F.interpolate(self.linear_nchw("up1.proj", m), scale_factor=2, mode="nearest") + s1
        h1 = attn("u1.attn", res("u1", u1))
        u0 = F.interpolate(self.linear_nchw("up0.proj", h1), scale_factor=2, mode="nearest") + s0
        h0 = res("u0", u0)
        offset = self.linear("out.film", c)[:, :, None, None]
        return self.conv("out", F.silu(self.group_norm("out.norm", h0))) + offset

    def cross_attention(self, name, h, tokens, bias):
        n, c, hh, ww = h.shape
        a = self.config["attentionDim"]
        heads = self.config["heads"]
        dh = a // heads
        t_len = tokens.shape[1]
        seq = self.group_norm(f"{name}.norm", h).flatten(2).transpose(1, 2)
        q = self.linear(f"{name}.q", seq)
        k = self.linear(f"{name}.k", tokens)
        v = self.linear(f"{name}.v", tokens)
        b = bias
        if heads > 1:
            def split(z, length):
                return z.reshape(n, length, heads, dh).transpose(1, 2).reshape(n * heads, length, dh)

            q, k, v = split(q, hh * ww), split(k, t_len), split(v, t_len)
            b = bias[:, None].expand(n, heads, 1, t_len).reshape(n * heads, 1, t_len)
        logits = (q @ k.transpose(1, 2)) * (1 / math.sqrt(dh)) + b
        o = torch.softmax(logits, -1) @ v
        if heads > 1:
            o = o.reshape(n, heads, hh * ww, dh).transpose(1, 2).reshape(n, hh * ww, a)
        o = self.linear(f"{name}.o", o)
        return h + o.transpose(1, 2).reshape(n, c, hh, ww)


# --- samplers ---------------------------------------------------------------------------------
def timestep_grid(steps, shift=1.0):
    grid = []
    for i in range(steps + 1):
        t = 1 - i / steps
        grid.append((shift * t) / (1 + (shift - 1) * t))
    grid[steps] = 0.0
    return grid


def sde_coefficients(t, t_next, sigma_max, noise_level):
    dt = t_next - t
    s = noise_level * math.sqrt(t / (1 - (sigma_max if t == 1 else t)))
    return {
        "x": 1 + (s * s) / (2 * t) * dt,
        "v": (1 + (s * s * (1 - t)) / (2 * t)) * dt,
        "std": s * math.sqrt(-dt),
    }


def sde_step(x, v, t, t_next, sigma_max, noise_level, noise=None, nxt=None):
    """Flow-GRPO's SDE step: (next, mean, per-sample mean log-prob, std)."""
    k = sde_coefficients(t, t_next, sigma_max, noise_level)
    mean = x * k["x"] + v * k["v"]
    if nxt is None:
        nxt = mean + noise * k["std"] if (noise is not None and k["std"] > 0) else mean
    if k["std"] == 0:
        return nxt, mean, torch.zeros(x.shape[0]), 0.0
    z = nxt - mean
    per = (z * z) * (-1 / (2 * k["std"] ** 2)) - (math.log(k["std"]) + LOG_SQRT_2PI)
    return nxt, mean, per.reshape(x.shape[0], -1).mean(1), k["std"]


def guided_conditioning(model, ids, text_mask, emotion_features, guidance):
    """[cond; null] for classifier-free guidance (guidance != 1), else cond."""
    cond = model.encode(ids, text_mask, emotion_features)
    if guidance == 1:
        return cond
    null = model.encode(ids, text_mask, emotion_features, drop=True)
    return tuple(torch.cat([a, b], 0) for a, b in zip(cond, null))


def guided_velocity(model, x, t, cond, guidance):
    if guidance == 1:
        return model.velocity(x, t, cond)
    n = x.shape[0]
    v = model.velocity(torch.cat([x, x], 0), t, cond)
    vc, vu = v[:n], v[n:]
    return vu + (vc - vu) * guidance


@torch.no_grad()
def sample_euler(model, cond, noise, grid, guidance=1):
    x = noise
    for i in range(len(grid) - 1):
        x = x + guided_velocity(model, x, grid[i], cond, guidance) * (grid[i + 1] - grid[i])
    return x


@torch.no_grad()
def sample_sde(model, cond, noise, grid, noise_level, noise_for):
    """Returns (final, latents [steps+1], log_probs [steps]); noise_for(i) gives step i's noise."""
    sigma_max = grid[1]
    x = noise
    latents = [x]
    log_probs = []
    for i in range(len(grid) - 1):
        v = model.velocity(x, grid[i], cond)
        x, _, lp, _ = sde_step(x, v, grid[i], grid[i + 1], sigma_max, noise_level, noise=noise_for(i))
        latents.append(x)
        log_probs.append(lp)
    return x, latents, log_probs


# --- training ---------------------------------------------------------------------------------
class Adam:
    """tfjs's Adam (epsilon 1e-7), via torch.optim.Adam."""

    def __init__(self, params, lr):
        self.opt = torch.optim.Adam(params, lr=lr, eps=1e-7)
        self.params = params

    def step(self, max_norm):
        grads = [p.grad for p in self.params if p.grad is not None]
        norm = math.sqrt(sum(float((g * g).sum()) for g in grads))
        if max_norm > 0 and norm > max_norm:
            for g in grads:
                g.mul_(max_norm / norm)
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        return norm


def flow_matching_step(model, opt, images, cond, noise, times):
    """One rectified-flow training step on all base weights (images NCHW in [0, 1])."""
    x0 = images * 2 - 1
    t4 = times[:, None, None, None]
    xt = (1 - t4) * x0 + t4 * noise
    v = model.velocity(xt, times, cond)
    loss = ((v - (noise - x0)) ** 2).mean()
    loss.backward()
    opt.step(1.0)
    return float(loss)


def ppo_clip_loss(log_prob, old_log_prob, advantages, clip_range):
    ratio = torch.exp(log_prob - old_log_prob)
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1 - clip_range, 1 + clip_range)
    return torch.maximum(unclipped, clipped).mean()


def group_advantages(rewards, group_size, clip=5.0, eps=1e-4):
    out = []
    kept = []
    for g in range(0, len(rewards), group_size):
        grp = rewards[g : g + group_size]
        spread = max(grp) - min(grp)
        if spread <= 1e-6:
            out += [0.0] * len(grp)
            kept.append(False)
            continue
        mean = sum(grp) / len(grp)
        std = math.sqrt(sum((r - mean) ** 2 for r in grp) / len(grp))
        out += [max(-clip, min(clip, (r - mean) / (std + eps))) for r in grp]
        kept.append(True)
    return out, kept


def brightness_reward(images_nchw, valences):
    """The benchmark's reward: brightness of the [0, 1] image toward the target valence."""
    pixels = ((images_nchw.clamp(-1, 1) + 1) * 0.5).reshape(images_nchw.shape[0], -1).mean(1)
    return [-abs(float(b) * 6 - 3 - v) for b, v in zip(pixels, valences)]


def grpo_iteration(model, opt, cfg, batch_cond, valences, noise_gen, rng):
    """One GRPO iteration as in packages/rl/src/grpo.ts: SDE group sampling with log-probs,
    rewards, group advantages, then PPO-clip + KL over `stepsPerIteration` steps of the window,
    each micro-batch's gradients (over those steps) taken as one clipped Adam step."""
    steps = cfg["steps"]
    grid = timestep_grid(steps)
    sigma_max = grid[1]
    n = batch_cond[0].shape[0]
    s = model.config["imageSize"]
    noise = noise_gen(n, s)
    model.adapters_enabled = True
    final, latents, old_lps = sample_sde(
        model, batch_cond, noise, grid, cfg["noiseLevel"], lambda i: noise_gen(n, s)
    )
    rewards = brightness_reward(final, valences)
    adv, kept = group_advantages(rewards, cfg["groupSize"], cfg["advantageClip"])
    kept_samples = [i for i in range(n) if kept[i // cfg["groupSize"]]]
    window = list(range(cfg["trainWindow"][0], cfg["trainWindow"][1]))
    rng.shuffle(window)
    train_steps = sorted(window[: cfg["stepsPerIteration"]])
    mb = cfg["microBatch"]
    micro = [kept_samples[i : i + mb] for i in range(0, len(kept_samples), mb)]
    # microBatchesPerUpdate = 1 (the default): one Adam step per micro-batch.
    weight = 1 / len(train_steps)
    adv_t = torch.tensor(adv)
    norm = 0.0
    for samples in micro:
        idx = torch.tensor(samples)
        cond = tuple(c[idx] for c in batch_cond)
        for step in train_steps:
            x = latents[step][idx]
            nxt = latents[step + 1][idx]
            t, t_next = grid[step], grid[step + 1]
            with torch.no_grad():
                model.adapters_enabled = False
                v_ref = model.velocity(x, t, cond)
                model.adapters_enabled = True
                _, ref_mean, _, _ = sde_step(x, v_ref, t, t_next, sigma_max, cfg["noiseLevel"], nxt=nxt)
            v = model.velocity(x, t, cond)
            _, mean, lp, std = sde_step(x, v, t, t_next, sigma_max, cfg["noiseLevel"], nxt=nxt)
            loss = ppo_clip_loss(lp, old_lps[step][idx], adv_t[idx], cfg["clipRange"])
            kl = ((mean - ref_mean) ** 2).mean() / (2 * std * std)
            loss = loss + kl * cfg["klWeight"]
            (loss * weight).backward()
        norm = opt.step(cfg["maxGradNorm"])
    return norm
