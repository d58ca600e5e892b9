#!/usr/bin/env python3
"""torch_rldt_ref.py -- a PyTorch implementation of the RLDT learner update, as a reference.

The same critic step (a' sampling with the actor's Euler chains, min of the twin target critics,
TD(lambda) targets, one batch per critic, AdamW, Polyak) and actor step (K chains per state, one
random denoising step per particle, expected targets, SVGD field of grad_a Q, transport /
consistency / trust-region losses, Adam) as learner/algo/rldt_critic.c and rldt_actor.c, with
the same shapes and math, written the way one would in PyTorch (nn.Linear modules, autograd,
torch.optim).

  check TRACE     redo the traced steps of `rldt bench learner --algo=rldt --trace=TRACE` from
                  the same weights, inputs and random draws; compare targets, losses, gradients
                  and the optimisers' parameters after. Exit 0 when all agree to float tolerance.
  bench           critic rounds and actor steps per second at given shapes (random weights and
                  data), like `rldt bench learner`: prints one key=value line.
  vs              one command for the side-by-side: alternates `rldt bench learner` and `bench`
                  REPEATS times at 1 and 2 threads, prints per-row throughput ratios C / torch.
"""
import argparse
import math
import os
import re
import statistics
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# ---- networks ---------------------------------------------------------------------------------


class TimeNet(nn.Module):
    """t -> [sin(w t), cos(w t)] (E) -> Linear(E, 2E) -> Mish -> Linear(2E, E)"""

    def __init__(self, E):
        super().__init__()
        half = E // 2
        k = torch.arange(half, dtype=torch.float64)
        # the C side computes the frequencies in float, the angles in double
        self.register_buffer("freq", (1000.0 * torch.exp(-math.log(10000.0) * k / half)).float())
        self.l1 = nn.Linear(E, 2 * E)
        self.l2 = nn.Linear(2 * E, E)

    def forward(self, t):
        a = self.freq.double()[None, :] * t.double()[:, None]
        e = torch.cat([torch.sin(a), torch.cos(a)], 1).float()
        return self.l2(F.mish(self.l1(e)))


class Flow(nn.Module):
    """v(x, t | s): trunk([x | temb | s]), residual ReLU MLP of depth x hidden, linear D out"""

    def __init__(self, S, D, E, hidden, depth):
        super().__init__()
        self.tnet = TimeNet(E)
        dims = [D + E + S] + [hidden] * depth
        self.hid = nn.ModuleList(nn.Linear(dims[i], dims[i + 1]) for i in range(depth))
        self.out = nn.Linear(hidden, D)

    def trunk(self, inp):
        h = F.relu(self.hid[0](inp))
        for layer in self.hid[1:]:
            h = h + F.relu(layer(h))
        return self.out(h)

    def forward(self, x, t, obs):
        return self.trunk(torch.cat([x, self.tnet(t), obs], 1))

    @torch.no_grad()
    def sample(self, obs, x0, N):
        """the Euler chain x_0..x_N of x_{k+1} = x_k + v(x_k, k/N | s) / N"""
        temb = self.tnet(torch.arange(N, dtype=torch.float32) / N)
        chain = [x0]
        for k in range(N):
            e = temb[k].expand(x0.shape[0], -1)
            v = self.trunk(torch.cat([chain[-1], e, obs], 1))
            chain.append(chain[-1] + v * (1.0 / N))
        return chain


class Critic(nn.Module):
    """Q(s, a): [obs | act] -> depth x hidden SiLU -> 1"""

    def __init__(self, S, D, hidden, depth):
        super().__init__()
        dims = [S + D] + [hidden] * depth
        self.hid = nn.ModuleList(nn.Linear(dims[i], dims[i + 1]) for i in range(depth))
        self.out = nn.Linear(hidden, 1)

    def forward(self, obs, act):
        h = torch.cat([obs, act], 1)
        for layer in self.hid:
            h = F.silu(layer(h))
        return self.out(h)[:, 0]


def linears(m):
    """the Linear layers in the C parameter order (time net first, then trunk)"""
    if isinstance(m, Flow):
        return [m.tnet.l1, m.tnet.l2, *m.hid, m.out]
    return [*m.hid, m.out]


def load_flat(m, flat):
    """set the module's weights from one C parameter block: per layer W (out, in), then b"""
    o = 0
    with torch.no_grad():
        for layer in linears(m):
            for p in (layer.weight, layer.bias):
                p.copy_(flat[o : o + p.numel()].view_as(p))
                o += p.numel()
    assert o == flat.numel(), f"parameter block of {flat.numel()} floats, net has {o}"


def flat_of(m, grad=False):
    ps = [(l.weight, l.bias) for l in linears(m)]
    return torch.cat([(p.grad if grad else p.detach()).reshape(-1) for pair in ps for p in pair])


# ---- the two steps ----------------------------------------------------------------------------


class Nets:
    def __init__(self, c):
        S, D = c["S"], c["D"]
        self.actor = Flow(S, D, c["flow_temb"], c["flow_hidden"], c["flow_depth"])
        self.trust = Flow(S, D, c["flow_temb"], c["flow_hidden"], c["flow_depth"])
        self.trust.load_state_dict(self.actor.state_dict())
        self.q = [Critic(S, D, c["c_hidden"], c["c_depth"]) for _ in range(2)]
        self.t = [Critic(S, D, c["c_hidden"], c["c_depth"]) for _ in range(2)]
        for k in range(2):
            self.t[k].load_state_dict(self.q[k].state_dict())
            self.t[k].requires_grad_(False)
        self.trust.requires_grad_(False)
        self.qopt = [
            torch.optim.AdamW(
                self.q[k].parameters(),
                lr=c["c_lr"],
                betas=(c["c_beta1"], c["c_beta2"]),
                eps=c["c_eps"],
                weight_decay=c["c_wd"],
            )
            for k in range(2)
        ]
        self.aopt = torch.optim.Adam(
            self.actor.parameters(), lr=c["a_lr"], betas=(c["beta1"], c["beta2"]), eps=c["eps"]
        )
        self.c = c
        self.actor_steps = 0


def qbar(n, obs, noise, M):
    """Q-bar of n states: mean over M policy samples of min(Q1', Q2')"""
    c = n.c
    obs_m = obs.repeat_interleave(M, 0)
    with torch.no_grad():
        a = n.actor.sample(obs_m, noise, c["N"])[-1].clamp(-1, 1)
        q = torch.minimum(n.t[0](obs_m, a), n.t[1](obs_m, a))
    return q.view(-1, M).double().mean(1).float()


def td_lambda(rew, disc, qb, length, lam):
    """y of each window (rows of L entries, length valid ones), as critic_td_lambda"""
    y = torch.empty(rew.shape[0])
    for p in range(rew.shape[0]):
        r, d, q, m = rew[p].double(), disc[p].double(), qb[p].double(), int(length[p])
        g = r[m - 1] + d[m - 1] * q[m - 1] if d[m - 1] != 0 else r[m - 1]
        for k in range(m - 2, -1, -1):
            g = r[k] + d[k] * ((1.0 - lam) * q[k] + lam * g) if d[k] != 0 else r[k]
        y[p] = float(g)
    return y


def critic_step(n, obs, act, y):
    """one step of both critics on their halves; returns (mean loss, per-critic losses)"""
    B = obs.shape[0] // 2
    losses = []
    for k in range(2):
        sl = slice(k * B, (k + 1) * B)
        n.qopt[k].zero_grad(set_to_none=False)
        loss = ((n.q[k](obs[sl], act[sl]) - y[sl]) ** 2).mean()
        loss.backward()
        losses.append(loss.item())
    return sum(losses) / 2, losses


def critic_apply(n):
    tau = n.c["tau"]
    for k in range(2):
        n.qopt[k].step()
        with torch.no_grad():
            for pt, pq in zip(n.t[k].parameters(), n.q[k].parameters()):
                pt.mul_(1.0 - tau).add_(pq, alpha=tau)


def svgd_field(ahat, a, g, K):
    """phi (P, D): per state, median bandwidth per particle, gradient-scaled repulsion (double)"""
    D = a.shape[1]
    ah, aa, gg = (x.double().view(-1, K, D) for x in (ahat, a, g))
    gn = gg.norm(dim=2).sum(1)
    alpha = (1e-3 * gn / K).clamp(0.0, 1e5)
    d2 = ((ah[:, :, None, :] - aa[:, None, :, :]) ** 2).sum(3)
    srt = d2.sort(2).values
    med = srt[:, :, K // 2] if K % 2 else 0.5 * (srt[:, :, K // 2 - 1] + srt[:, :, K // 2])
    h = (med / (2.0 * math.log(K + 1.0))).clamp(min=1e-8)
    kij = torch.exp(-d2 / (2.0 * h[:, :, None])) / K
    rep = (kij * (alpha[:, None, None] / h[:, :, None]))[:, :, :, None] * (
        ah[:, :, None, :] - aa[:, None, :, :]
    )
    phi = torch.einsum("sij,sjd->sid", kij, gg) + rep.sum(2)
    return phi.reshape(-1, D).float(), alpha.mean().item(), h.mean().item()


def actor_micro(n, sobs, noise, kstep, xnoise, tstep, inv_n):
    """one micro-batch of states: their losses' gradients added to n.actor's .grad"""
    c = n.c
    K, N = c["K"], c["N"]
    P = sobs.shape[0] * K
    obs = sobs.repeat_interleave(K, 0)
    chain = n.actor.sample(obs, noise, N)
    a = chain[-1].clamp(-1, 1)
    ks = kstep.long()
    t = ks.float() / N
    xt = torch.stack(chain)[ks, torch.arange(P)]
    v = n.actor(xt, t, obs)
    ahat = (xt + (1.0 - t)[:, None] * v).detach()
    a_req = a.clone().requires_grad_(True)
    qsum = 0.5 * (n.q[0](obs, a_req) + n.q[1](obs, a_req)).sum()
    (g,) = torch.autograd.grad(qsum, a_req)
    phi, alpha, bw = svgd_field(ahat, a, g, K)
    u = 1.0 - t.double()
    ct = (inv_n / (N * u)).float()
    l_tr = -(ct[:, None] * v * phi).sum()
    cc = (c["w_cons"] * inv_n / (N * u) ** 2).float()
    l_cons = (cc * ((xt + (1.0 - t)[:, None] * v - a) ** 2).sum(1)).sum()
    loss = l_tr + l_cons
    l_trust = torch.zeros(())
    if c["w_trust"] > 0:
        tau = tstep.float() / N
        xtil = (1.0 - tau)[:, None] * xnoise + tau[:, None] * a
        with torch.no_grad():
            vold = n.trust(xtil, tau, obs)
        l_trust = c["w_trust"] * inv_n * ((n.actor(xtil, tau, obs) - vold) ** 2).sum()
        loss = loss + l_trust
    loss.backward()
    return torch.tensor([l_tr.item(), l_cons.item(), l_trust.item(), alpha * (P // K), bw * P])


def actor_step(n, sobs, noise, kstep, xnoise, tstep, blk=2048):
    """the actor losses' gradients into n.actor's .grad over micro-batches of blk particles,
    as the C step; returns the losses and the mean SVGD alpha and bandwidth"""
    K, Ba = n.c["K"], sobs.shape[0]
    per, inv_n = blk // K, 1.0 / (Ba * K)
    n.aopt.zero_grad(set_to_none=False)
    acc = torch.zeros(5, dtype=torch.float64)
    for s0 in range(0, Ba, per):
        s1, p0, p1 = min(Ba, s0 + per), s0 * K, min(Ba, s0 + per) * K
        acc += actor_micro(n, sobs[s0:s1], noise[p0:p1], kstep[p0:p1], xnoise[p0:p1],
                           tstep[p0:p1], inv_n)  # fmt: skip
    l_tr, l_cons, l_trust, alpha, bw = acc.tolist()
    return l_tr, l_cons, l_trust, alpha / Ba, bw / (Ba * K)


def actor_apply(n):
    c = n.c
    n.actor_steps += 1
    warm = c["a_warmup"]
    for grp in n.aopt.param_groups:
        grp["lr"] = c["a_lr"] * (min(1.0, n.actor_steps / warm) if warm > 0 else 1.0)
    n.aopt.step()


# ---- check against a C trace ------------------------------------------------------------------


def load_trace(path):
    data = open(path, "rb").read()
    out, pos = {}, 0
    while pos < len(data):
        nl = data.index(b"\n", pos)
        name, typ, cnt = data[pos:nl].decode().split()
        size = int(cnt) * (4 if typ == "f" else 8)
        raw = bytearray(data[nl + 1 : nl + 1 + size])
        pos = nl + 1 + size
        x = torch.frombuffer(raw, dtype=torch.float32 if typ == "f" else torch.float64)
        out[name] = x.clone() if typ == "f" else float(x[0])
    for k in ("S", "A", "chunk", "N", "K", "Ba", "B", "M", "L", "pool", "flow_hidden"):
        out[k] = int(out[k])
    for k in ("flow_depth", "flow_temb", "c_hidden", "c_depth", "a_warmup"):
        out[k] = int(out[k])
    out["D"] = out["chunk"] * out["A"]
    return out


class Checker:
    def __init__(self):
        self.bad = 0

    def rel(self, what, got, want, tol):
        got, want = torch.as_tensor(got).double(), torch.as_tensor(want).double()
        err = ((got - want).norm() / max(want.norm().item(), 1e-12)).item()
        ok = err <= tol and math.isfinite(err)
        self.bad += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {what}: relative error {err:.2e} (tolerance {tol:g})")

    def near(self, what, got, want, tol):
        err = (torch.as_tensor(got).double() - torch.as_tensor(want).double()).abs().max().item()
        ok = err <= tol
        self.bad += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {what}: max abs difference {err:.2e} (tolerance {tol:g})")


def set_grads(m, flat):
    o = 0
    for layer in linears(m):
        for p in (layer.weight, layer.bias):
            p.grad = flat[o : o + p.numel()].view_as(p).clone()
            o += p.numel()


def check_critic(n, tr, ck):
    c, S, D, L = n.c, n.c["S"], n.c["D"], n.c["L"]
    P2 = 2 * c["pool"]
    rew, disc = tr["w_rew"].view(P2, L), tr["w_disc"].view(P2, L)
    length = tr["w_len"].long()
    valid = torch.arange(L)[None, :] < length[:, None]
    boot = (valid & (disc != 0)).reshape(-1).nonzero()[:, 0]
    nxt = tr["w_next"].view(-1, S)[boot]
    qb = torch.zeros(P2 * L)
    qb[boot] = qbar(n, nxt, tr["c_noise"].view(-1, D), c["M"])
    ck.rel("Q-bar of the bootstrapping states (M samples each)", qb[boot], tr["w_qbar"][boot], 1e-4)
    y = td_lambda(rew, disc, qb.view(P2, L), length, c["lambda"])
    ck.rel("round targets y (a' sampling, target critics, TD(lambda))", y, tr["pool_y"], 1e-4)
    obs, act, yb = tr["c_obs"].view(-1, S), tr["c_act"].view(-1, D), tr["c_y"]
    loss, _ = critic_step(n, obs, act, yb)
    ck.rel("critic loss", loss, tr["critic_loss"], 1e-5)
    for k in range(2):
        ck.rel(f"critic {k + 1} gradient", flat_of(n.q[k], True), tr[f"q{k}_grad"], 1e-4)
    # the optimisers on the C gradients: AdamW + Polyak must give the C parameters
    for k in range(2):
        set_grads(n.q[k], tr[f"q{k}_grad"])
    critic_apply(n)
    for k in range(2):
        ck.near(f"critic {k + 1} after AdamW", flat_of(n.q[k]), tr[f"q{k}_1"], 1e-6)
        ck.near(f"target {k + 1} after Polyak", flat_of(n.t[k]), tr[f"t{k}_1"], 1e-6)


def set_adam(n, state, step):
    """torch Adam state from the C one: m then v, each in the parameter block's layout"""
    half, o = state.numel() // 2, 0
    for layer in linears(n.actor):
        for p in (layer.weight, layer.bias):
            k = p.numel()
            n.aopt.state[p] = {
                "step": torch.tensor(float(step)),
                "exp_avg": state[o : o + k].view_as(p).clone(),
                "exp_avg_sq": state[half + o : half + o + k].view_as(p).clone(),
            }
            o += k
    n.actor_steps = step


def check_actor(n, tr, ck):
    c, S, D = n.c, n.c["S"], n.c["D"]
    for k in range(2):  # continue from the C critics exactly
        load_flat(n.q[k], tr[f"q{k}_1"])
    # and from the C actor, trust copy and Adam state after its untraced actor step
    load_flat(n.actor, tr["actor_a"])
    load_flat(n.trust, tr["trust_a"])
    set_adam(n, tr["adam_state"], int(tr["adam_step"]))
    sobs = tr["a_sobs"].view(-1, S)
    l_tr, l_cons, l_trust, alpha, bw = actor_step(
        n, sobs, tr["a_noise"].view(-1, D), tr["a_k"], tr["a_xtil"].view(-1, D), tr["a_tau"]
    )
    ck.rel("transport loss", l_tr, tr["l_transport"], 1e-4)
    ck.rel("consistency loss", l_cons, tr["l_cons"], 1e-4)
    ck.rel("trust-region loss", l_trust, tr["l_trust"], 1e-3)
    ck.rel("SVGD alpha (mean)", alpha, tr["alpha"], 1e-4)
    ck.rel("SVGD bandwidth (mean)", bw, tr["bandwidth"], 1e-4)
    ck.rel("actor gradient", flat_of(n.actor, True), tr["actor_grad"], 1e-3)
    set_grads(n.actor, tr["actor_grad"])
    actor_apply(n)
    ck.near("actor after Adam", flat_of(n.actor), tr["actor_2"], 1e-6)


def cmd_check(args):
    torch.set_num_threads(1)
    tr = load_trace(args.trace)
    n = Nets(tr)
    load_flat(n.actor, tr["actor_0"])
    load_flat(n.trust, tr["trust_0"])
    for k in range(2):
        load_flat(n.q[k], tr[f"q{k}_0"])
        load_flat(n.t[k], tr[f"t{k}_0"])
    ck = Checker()
    check_critic(n, tr, ck)
    check_actor(n, tr, ck)
    print(f"torch_rldt_ref: {ck.bad} of the comparisons disagree")
    return 1 if ck.bad else 0


# ---- throughput -------------------------------------------------------------------------------


def bench_config(a):
    return {
        "S": a.obs, "A": a.act, "chunk": a.chunk, "D": a.act * a.chunk, "N": a.steps,
        "K": a.particles, "Ba": a.actor_batch, "B": a.batch, "M": a.samples, "L": 1,
        "lambda": 0.0, "w_cons": 0.5, "w_trust": 0.2, "flow_hidden": a.hidden,
        "flow_depth": a.depth, "flow_temb": 16, "c_hidden": a.critic_hidden,
        "c_depth": a.critic_depth, "c_lr": 1e-3, "c_wd": 0.01, "tau": 0.005, "a_lr": 2e-5,
        "a_warmup": 20, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "c_beta1": 0.9,
        "c_beta2": 0.999, "c_eps": 1e-8, "pool": a.batch * a.round, "gamma": 0.99,
    }  # fmt: skip


class Replay:
    """random rows standing in for the replay: a batch is a gather of random rows"""

    def __init__(self, c, n=50000):
        self.obs = torch.randn(n, c["S"])
        self.act = torch.rand(n, c["D"]) * 2 - 1
        self.rew = torch.randn(n)
        self.nxt = torch.randn(n, c["S"])
        self.done = (torch.rand(n) < 0.01).float()

    def sample(self, B):
        i = torch.randint(0, self.obs.shape[0], (B,))
        return self.obs[i], self.act[i], self.rew[i], self.nxt[i], self.done[i]


def critic_round(n, rp, R, blk=2048):
    c = n.c
    P, M, D = c["pool"], c["M"], c["D"]
    obs, act, rew, nxt, done = rp.sample(2 * P)
    qb = torch.empty(2 * P)
    per = blk // M
    for i in range(0, 2 * P, per):
        j = min(2 * P, i + per)
        qb[i:j] = qbar(n, nxt[i:j], torch.randn((j - i) * M, D), M)
    y = rew + (1 - done) * c["gamma"] ** c["chunk"] * qb
    B = c["B"]
    for s in range(R):
        rows = [h * P + s * B + torch.arange(B) for h in range(2)]
        i = torch.cat(rows)
        critic_step(n, obs[i], act[i], y[i])
        critic_apply(n)


def bench_actor(n, rp):
    c = n.c
    P = c["Ba"] * c["K"]
    sobs = rp.sample(c["Ba"])[0]
    D, N = c["D"], c["N"]
    actor_step(
        n, sobs, torch.randn(P, D), torch.randint(0, N, (P,)), torch.randn(P, D),
        torch.randint(0, N, (P,)),
    )  # fmt: skip
    actor_apply(n)
    if n.actor_steps % 32 == 0:
        n.trust.load_state_dict(n.actor.state_dict())


def timed(fn, secs):
    """calls of fn in about secs after one untimed call: (calls, wall seconds, CPU seconds)"""
    fn()
    t0, c0, k = time.perf_counter(), time.process_time(), 0
    while True:
        fn()
        k += 1
        dt = time.perf_counter() - t0
        if dt >= secs:
            return k, dt, time.process_time() - c0


def blas_info():
    """kernel name and thread count of the OpenBLAS this process loaded (through torch)"""
    try:
        import ctypes
        with open("/proc/self/maps") as f:
            libs = {ln.split()[-1] for ln in f if "blas" in ln and ".so" in ln}
        for lib in sorted(libs):
            dll = ctypes.CDLL(lib)
            if hasattr(dll, "openblas_get_corename"):
                dll.openblas_get_corename.restype = ctypes.c_char_p
                return dll.openblas_get_corename().decode(), dll.openblas_get_num_threads()
    except OSError:
        pass
    return "unknown", 0


def cmd_bench(a):
    if os.environ.get("OPENBLAS_NUM_THREADS") != str(a.threads):
        print(f"torch_rldt_ref: note: OPENBLAS_NUM_THREADS is not {a.threads}: torch's GEMMs "
              "may use another thread count (the vs command sets it)", file=sys.stderr)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    c = bench_config(a)
    n, rp = Nets(c), Replay(c)
    rounds, cs, cc = timed(lambda: critic_round(n, rp, a.round), a.secs)
    steps, asecs, ac = timed(lambda: bench_actor(n, rp), a.secs)
    print(
        f"torch bench: threads={a.threads} critic_updates_per_s={rounds * a.round / cs:.2f} "
        f"actor_updates_per_s={steps / asecs:.3f} "
        f"critic_updates_per_cpu_s={rounds * a.round / cc:.2f} "
        f"actor_updates_per_cpu_s={steps / ac:.3f} torch={torch.__version__} "
        f"blas_kernel={blas_info()[0]} blas_threads={blas_info()[1]}"
    )
    return 0


def run(cmd, threads=None):
    """output of cmd; with threads, OpenBLAS (under torch's GEMMs) and OpenMP get that many, and
    OpenMP's workers sleep rather than spin when idle unless OMP_WAIT_POLICY says otherwise
    (spinning workers take a core from OpenBLAS's: torch at 2 threads ran 3-7x slower so)"""
    env = dict(os.environ)
    if threads:
        env.update(OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
        if threads > 1:
            env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode:
        sys.exit(f"torch_rldt_ref: {' '.join(cmd)} failed:\n{p.stderr}")
    return p.stdout


def num(key, text):
    m = re.search(rf"\b{key}=([0-9.]+)", text)
    if not m:
        sys.exit(f"torch_rldt_ref: no {key}= in:\n{text}")
    return float(m.group(1))


def torch_cmd(a, first):
    """the `bench` command at the shapes a `rldt bench learner` output line reports"""
    shape = {k: int(num(k, first)) for k in ("obs", "act", "chunk", "N", "batch", "K", "M")}
    shape.update({k: int(num(k, first)) for k in ("actor_batch", "round")})
    fx = re.search(r"flow=(\d+)x(\d+)", first)
    cx = re.search(r"critic=(\d+)x(\d+)", first)
    return [sys.executable, sys.argv[0], "bench", f"--secs={a.secs}",
            f"--obs={shape['obs']}", f"--act={shape['act']}", f"--chunk={shape['chunk']}",
            f"--steps={shape['N']}", f"--batch={shape['batch']}", f"--particles={shape['K']}",
            f"--samples={shape['M']}", f"--actor-batch={shape['actor_batch']}",
            f"--round={shape['round']}", f"--hidden={fx.group(1)}", f"--depth={fx.group(2)}",
            f"--critic-hidden={cx.group(1)}", f"--critic-depth={cx.group(2)}"]  # fmt: skip


KEYS = ("critic_updates_per_s", "actor_updates_per_s", "critic_updates_per_cpu_s",
        "actor_updates_per_cpu_s")  # fmt: skip


def summary(res):
    for th, v in sorted(res.items()):
        for i, what in enumerate(KEYS):
            x = [r[i] for r in v]
            print(f"vs-torch: threads={th} {what} C/torch median {statistics.median(x):.2f} "
                  f"min {min(x):.2f} max {max(x):.2f} over {len(x)} repeats")  # fmt: skip


def cmd_vs(a):
    res, tb = {}, None
    for rep in range(a.repeats):
        for th in a.threads:
            load = os.getloadavg()[0]
            c = run([a.rldt, "bench", "learner", "--algo=rldt", f"--threads={th}",
                     f"--secs={a.secs}"] + a.extra, th)  # fmt: skip
            if tb is None:
                tb = torch_cmd(a, c)
                print(f"vs-torch: shapes {c.splitlines()[0].split(': ', 1)[1]}")
            t = run(tb + [f"--threads={th}"], th)
            kc, kt = (re.search(r"blas_kernel=(\S+)", x) for x in (c, t))
            kc, kt = (k.group(1) if k else "unknown" for k in (kc, kt))
            if kc != kt:
                print(f"vs-torch: note: the BLAS kernels differ (C {kc}, torch {kt})")
            r = [num(k, c) / num(k, t) for k in KEYS]
            res.setdefault(th, []).append(r)
            print(f"vs-torch: repeat {rep + 1} threads={th} C/torch per-row throughput: critic "
                  f"{r[0]:.2f} actor {r[1]:.2f} (per CPU second: critic {r[2]:.2f} actor "
                  f"{r[3]:.2f}); steps/s C critic {num(KEYS[0], c):.2f} actor "
                  f"{num(KEYS[1], c):.3f}, torch critic {num(KEYS[0], t):.2f} actor "
                  f"{num(KEYS[1], t):.3f}; OpenBLAS kernel {kc}; load average "
                  f"{load:.1f} -> {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    summary(res)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("check")
    p.add_argument("trace")
    p = sub.add_parser("bench")
    for k, v in (("obs", 11), ("act", 3), ("chunk", 4), ("steps", 8), ("batch", 256),
                 ("particles", 8), ("samples", 2), ("actor-batch", 256), ("round", 32),
                 ("hidden", 512), ("depth", 3), ("critic-hidden", 256), ("critic-depth", 3),
                 ("threads", 1), ("seed", 1)):  # fmt: skip
        p.add_argument(f"--{k}", type=int, default=v)
    p.add_argument("--secs", type=float, default=5.0)
    p = sub.add_parser("vs")
    p.add_argument("--rldt", default="build/rldt")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--secs", type=float, default=5.0)
    p.add_argument("--threads", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2])
    p.add_argument("extra", nargs="*", help="more `rldt bench learner` flags (--env=...)")
    a = ap.parse_args()
    return {"check": cmd_check, "bench": cmd_bench, "vs": cmd_vs}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
