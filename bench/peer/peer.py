"""The PyTorch peer of the EmoFlow benchmarks.

    python3 bench/peer/peer.py --weights W.json [--reference R.json] [--threads 1,2] [--reps 3]

Loads the weights exported from the tfjs model, checks (with --reference) that the same inputs
give the same outputs as tfjs, then times, at each thread count: a forward pass (batch 16),
10-step Euler sampling (batch 8), a rectified-flow training step (batch 16) and one GRPO
iteration (Flow-GRPO defaults of packages/rl/src/grpo.ts). Prints one JSON object on stdout.
"""

import argparse
import json
import random
import resource
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from emoflow_torch import (  # noqa: E402
    Adam,
    EmoFlowTorch,
    decode_array,
    flow_matching_step,
    grpo_iteration,
    guided_conditioning,
    load_json,
    ppo_clip_loss,
    sample_euler,
    sample_sde,
    sde_step,
    timestep_grid,
)


def nchw(t):
    return t.permute(0, 3, 1, 2).contiguous()


def nhwc(t):
    return t.permute(0, 2, 3, 1).contiguous()


def max_diff(a, b):
    return float((a - b).abs().max())


def encoder_inputs(inputs):
    ids = decode_array(inputs["ids"]).long()
    return ids, decode_array(inputs["textMask"]), decode_array(inputs["emotionFeatures"])


def check(exported, ref):
    """Max absolute differences between PyTorch and the tfjs reference outputs."""
    model = EmoFlowTorch(exported)
    cond = model.encode(*encoder_inputs(ref["inputs"]))
    out = {}
    with torch.no_grad():
        v = model.velocity(nchw(decode_array(ref["x"])), torch.tensor(ref["times"]), cond)
        out["velocity"] = max_diff(nhwc(v), decode_array(ref["velocity"]))
        grid = timestep_grid(10)
        x1 = nchw(decode_array(ref["noise"]))
        out["euler10"] = max_diff(nhwc(sample_euler(model, cond, x1, grid)), decode_array(ref["euler"]))
        guided = guided_conditioning(model, *encoder_inputs(ref["inputs"]), ref["guidanceScale"])
        euler_guided = sample_euler(model, guided, x1, grid, ref["guidanceScale"])
        out["euler10Guided"] = max_diff(nhwc(euler_guided), decode_array(ref["eulerGuided"]))
        noises = [nchw(decode_array(a)) for a in ref["sdeNoise"]]
        final, latents, lps = sample_sde(model, cond, x1, grid, ref["noiseLevel"], lambda i: noises[i])
        out["sde10"] = max_diff(nhwc(final), decode_array(ref["sdeFinal"]))
        out["sdeLogProbs"] = max_diff(torch.stack(lps), decode_array(ref["sdeLogProbs"]))
    g = ref["grpo"]
    step = g["step"]
    # The GRPO loss is scored on tfjs's own latents, so only this step's arithmetic is compared.
    model.set_requires_grad(False, True)
    x = nchw(decode_array(g["x"]))
    nxt = nchw(decode_array(g["next"]))
    t, t_next = grid[step], grid[step + 1]
    with torch.no_grad():
        model.adapters_enabled = False
        _, ref_mean, _, _ = sde_step(x, model.velocity(x, t, cond), t, t_next, grid[1], ref["noiseLevel"], nxt=nxt)
        model.adapters_enabled = True
    _, mean, lp, std = sde_step(x, model.velocity(x, t, cond), t, t_next, grid[1], ref["noiseLevel"], nxt=nxt)
    loss = ppo_clip_loss(lp, torch.tensor(g["oldLogProb"]), torch.tensor(g["advantages"]), g["clipRange"])
    loss = loss + ((mean - ref_mean) ** 2).mean() / (2 * std * std) * g["klWeight"]
    loss.backward()
    out["grpoLoss"] = abs(float(loss) - g["loss"])
    worst = 0.0
    scale = 0.0
    for name, entry in g["grads"].items():
        expected = decode_array(entry)
        worst = max(worst, max_diff(model.adapters[name].grad, expected))
        scale = max(scale, float(expected.abs().max()))
    out["grpoGrads"] = worst
    out["grpoGradsRelative"] = worst / max(scale, 1e-12)
    return out


def best_of(reps, fn):
    fn()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1000


def bench(exported, spec, threads, reps):
    torch.set_num_threads(threads)
    torch.manual_seed(spec["seed"])
    rng = random.Random(spec["seed"])
    model = EmoFlowTorch(exported)
    s = model.config["imageSize"]
    ids, mask, feats = encoder_inputs(spec["sampling"])
    res = {}
    with torch.no_grad():
        guidance = spec["guidanceScale"]
        grid = timestep_grid(spec["steps"])
        noise8 = torch.randn(ids.shape[0], 3, s, s)

        def sample():
            cond8 = guided_conditioning(model, ids, mask, feats, guidance)
            return sample_euler(model, cond8, noise8, grid, guidance)

        ms = best_of(reps, sample)
        res["samplingImagesPerSecond"] = ids.shape[0] * 1000 / ms
        ids16, mask16, feats16 = encoder_inputs(spec["training"])
        cond16 = model.encode(ids16, mask16, feats16)
        x16 = torch.randn(ids16.shape[0], 3, s, s)
        res["forwardMs"] = best_of(reps, lambda: model.velocity(x16, 0.5, cond16))
    # Rectified-flow training step on the base weights.
    model.set_requires_grad(True, False)
    opt = Adam(model.base_parameters(), 1e-3)
    images = torch.rand(ids16.shape[0], 3, s, s)

    def train():
        cond = model.encode(ids16, mask16, feats16)
        noise = torch.randn_like(images)
        times = torch.sigmoid(torch.randn(ids16.shape[0])).clamp(0.001, 0.999)
        flow_matching_step(model, opt, images, cond, noise, times)

    res["trainStepMs"] = best_of(reps, train)
    # GRPO on the adapters, base weights frozen.
    model = EmoFlowTorch(exported)
    model.set_requires_grad(False, True)
    cfg = spec["grpo"]
    opt = Adam(model.adapter_parameters(), cfg["learningRate"])
    gids, gmask, gfeats = encoder_inputs(spec["grpoTargets"])
    valences = spec["grpoValences"]

    def grpo():
        picks = [rng.randrange(len(valences)) for _ in range(cfg["groupsPerIteration"])]
        rows = torch.tensor([p for p in picks for _ in range(cfg["groupSize"])])
        with torch.no_grad():
            cond = model.encode(gids[rows], gmask[rows], gfeats[rows])
        vals = [valences[int(r)] for r in rows]
        grpo_iteration(model, opt, cfg, cond, vals, lambda n, size: torch.randn(n, 3, size, size), rng)

    res["grpoIterationMs"] = best_of(max(1, reps // 2), grpo)
    res["peakRssMiB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--reference")
    ap.add_argument("--spec")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    exported = load_json(args.weights)
    out = {"torch": torch.__version__, "results": {}}
    if args.reference:
        torch.set_num_threads(1)
        out["check"] = check(exported, load_json(args.reference))
    if args.spec:
        spec = load_json(args.spec)
        for n in [int(t) for t in args.threads.split(",") if t]:
            out["results"][str(n)] = bench(exported, spec, n, args.reps)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
