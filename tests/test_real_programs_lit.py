"""litgpt 0.5.13 and torchani 2.9 run under the alias against PyTorch (session 38): litgpt's GPT from tiny Configs
(pythia-14m, Llama/Mixtral/Gemma-2/3/Qwen3/Phi/Falcon/OLMo shapes: forward, loss, backward, KV-cache generate),
its LoRA/adapter/adapter_v2 models, Fabric on CPU (32-true, bf16-mixed, bf16-true, save/load, torch.compile);
torchani's AEVComputer, ANI ensembles, forces, hessians and vibrational analysis. Every printed value matched;
these tests keep the paths they lean on, reduced to their essential lines."""
import math

from helpers import run_both


# -- litgpt model.py: KVCache.forward index_copy_s the step into its buffers, then attends with a sliced bool mask ---
def test_litgpt_kv_cache_step_attention_and_rope():
    def run(lib):
        lib.manual_seed(0)
        f64 = lib.float64
        q, k, v = (lib.randn(1, 2, 3, 4, dtype=f64, requires_grad=True) for _ in range(3))
        cos, sin = lib.cos(lib.arange(3.0, dtype=f64)).view(3, 1), lib.sin(lib.arange(3.0, dtype=f64)).view(3, 1)
        def rope(x):
            x1, x2 = x[..., :2], x[..., 2:]
            return x * cos + lib.cat((-x2, x1), dim=-1) * sin
        pos = lib.tensor([2, 3, 4])
        ck, cv = lib.zeros(1, 2, 6, 4, dtype=f64), lib.zeros(1, 2, 6, 4, dtype=f64)
        ck.index_copy_(2, pos, rope(k))
        cv.index_copy_(2, pos, v)
        mask = lib.ones(6, 6, dtype=lib.bool).tril()[None, None].index_select(2, pos)
        y = lib.nn.functional.scaled_dot_product_attention(rope(q), ck, cv, attn_mask=mask, scale=0.5)
        y.pow(2).sum().backward()
        return [y, q.grad, k.grad, v.grad, ck.grad_fn.name(), y.grad_fn.name()]
    run_both(run)


# -- torchani grad.py: forces are -dE/dx through autograd.grad(create_graph=True), hessians differentiate them again -
def test_torchani_cutoff_energy_forces_and_hessian():
    def run(lib):
        c = lib.tensor([[0.0, 0.0, 0.1], [0.76, 0.0, -0.47], [-0.76, 0.0, -0.47]], dtype=lib.float64,
                       requires_grad=True)
        i, j = lib.triu_indices(3, 3, 1)
        r = (c[i] - c[j]).norm(2, -1)
        fc = 0.5 * lib.cos(r * (math.pi / 5.2)) + 0.5
        e = (lib.exp(-16.0 * (r - 0.9) ** 2) * fc).sum()
        f = -lib.autograd.grad(e, c, create_graph=True)[0]
        h = lib.stack([-lib.autograd.grad(f.flatten()[n], c, retain_graph=True)[0].flatten() for n in range(9)])
        return [e, f, h, lib.linalg.eigvalsh(h)]
    run_both(run)
