"""tianshou 1.2 under ``ember.aliasing.as_torch()`` (session 37): its CartPole DQN quickstart (Collector,
VectorReplayBuffer, OffpolicyTrainer), PPO with ActorCritic and Categorical, C51, QRDQN, IQN, FQF, Rainbow, DRQN,
discrete SAC, REINFORCE, SAC, TD3, continuous PPO and TRPO print PyTorch's losses and rewards within float32
rounding, and its own test/base suite passes. No defect was found; these are the lines of its PPO update
(tianshou/policy/modelfree/ppo.py and a2c.py) checked against PyTorch, without tianshou."""
import numpy as np

from helpers import run_both


def test_ppo_discrete_update_step():
    """PPOPolicy.learn on an ActorCritic: Categorical log-ratio, dual clip surrogate, clipped value loss, entropy,
    clip_grad_norm_ and an Adam step; the losses and updated weights are PyTorch's."""
    def step(T):
        T.manual_seed(0)
        actor, critic = T.nn.Linear(4, 2), T.nn.Linear(4, 1)
        params = list(actor.parameters()) + list(critic.parameters())
        optim = T.optim.Adam(params, lr=3e-4, eps=1e-5)
        obs = T.as_tensor(np.linspace(-1, 1, 24, dtype=np.float32).reshape(6, 4))
        act = T.as_tensor(np.array([0, 1, 1, 0, 1, 0]))
        old_logp, v_s, ret = T.full((6,), -0.7), T.zeros(6), T.linspace(0, 1, 6)
        adv = ret - v_s
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        dist = T.distributions.Categorical(logits=actor(obs))
        ratio = (dist.log_prob(act) - old_logp).exp().float()
        surr1, surr2 = ratio * adv, ratio.clamp(0.8, 1.2) * adv
        clip1 = T.min(surr1, surr2)
        clip2 = T.max(clip1, 3.0 * adv)
        clip_loss = -T.where(adv < 0, clip2, clip1).mean()
        value = critic(obs).flatten()
        v_clip = v_s + (value - v_s).clamp(-0.2, 0.2)
        vf_loss = T.max((ret - value).pow(2), (ret - v_clip).pow(2)).mean()
        ent = dist.entropy().mean()
        loss = clip_loss + 0.5 * vf_loss - 0.01 * ent
        optim.zero_grad()
        loss.backward()
        norm = T.nn.utils.clip_grad_norm_(params, max_norm=0.5)
        optim.step()
        return [loss, clip_loss, vf_loss, ent, norm, *[p.detach() for p in params]]
    run_both(step)
