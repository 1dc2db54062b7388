"""Reinforcement-learning programs (session 34) run on ember against PyTorch: stable-baselines3 2.9.2's PPO, A2C,
DQN, SAC, TD3 and DDPG on CartPole-v1/Pendulum-v1 under ``ember.aliasing.as_torch()``, and CleanRL's ppo.py,
dqn.py and c51.py, printed the same losses to rounding. Each test is the lines of the library that exercise one
path, reduced so that the library itself is not needed."""
import io

import numpy as np

from helpers import run_both


def _mlp(T, n_in, n_out, seed):
    T.manual_seed(seed)
    return T.nn.Sequential(T.nn.Linear(n_in, 8), T.nn.Tanh(), T.nn.Linear(8, n_out))


def _polyak(T):
    """stable_baselines3/common/utils.py polyak_update, as SAC/TD3/DQN call it on the target network."""
    net, target = _mlp(T, 3, 2, 0), _mlp(T, 3, 2, 1)
    for _ in range(3):
        with T.no_grad():
            for param, target_param in zip(net.parameters(), target.parameters(), strict=True):
                target_param.data.mul_(1 - 0.005)
                T.add(target_param.data, param.data, alpha=0.005, out=target_param.data)
    return [p.detach().clone() for p in target.parameters()] + [target[0].weight.requires_grad]


def test_sb3_polyak_update():
    run_both(_polyak)


def _squashed_gaussian(T):
    """stable_baselines3/common/distributions.py SquashedDiagGaussianDistribution: rsample of a Normal, tanh, and
    the log-probability corrected by log(1 - tanh(u)^2 + eps), summed over the action dimension (sum_independent_dims),
    with its gradient to the mean and log_std."""
    T.manual_seed(3)
    mean = T.tensor([[0.2, -0.4], [1.5, 0.1]], requires_grad=True)
    log_std = T.tensor([-0.5, 0.3], requires_grad=True)
    dist = T.distributions.Normal(mean, T.ones_like(mean) * log_std.exp())
    gaussian_actions = dist.rsample()
    actions = T.tanh(gaussian_actions)
    log_prob = dist.log_prob(gaussian_actions).sum(dim=1)
    log_prob = log_prob - T.sum(T.log(1 - actions ** 2 + 1e-6), dim=1)
    entropy = -log_prob.mean()
    (log_prob.sum() + actions.sum()).backward()
    return [actions, log_prob, entropy, mean.grad, log_std.grad]


def test_sb3_squashed_gaussian():
    run_both(_squashed_gaussian, tol=1e-5)


def _categorical(T):
    """CleanRL ppo.py get_action_and_value and SB3's CategoricalDistribution: sample, log_prob, entropy from logits,
    and PPO's clipped surrogate (clamp, max) backpropagated to the logits."""
    T.manual_seed(0)
    logits = T.randn(6, 2, requires_grad=True)
    probs = T.distributions.Categorical(logits=logits)
    action = probs.sample()
    logprob, entropy = probs.log_prob(action), probs.entropy()
    ratio = (logprob - logprob.detach() + 0.1 * T.arange(6.0)).exp()
    adv = T.tensor([1.0, -2.0, 0.5, 0.0, 3.0, -1.0])
    pg_loss = T.max(-adv * ratio, -adv * T.clamp(ratio, 0.8, 1.2)).mean()
    (pg_loss - 0.01 * entropy.mean()).backward()
    return [action, logprob, entropy, pg_loss, logits.grad]


def test_cleanrl_categorical_ppo_loss():
    run_both(_categorical)


def _dqn_targets(T):
    """CleanRL dqn.py and SB3 DQN's train(): the TD target from the target network's max under no_grad, and the
    Q-values of the taken actions with gather; smooth_l1 (SB3) and mse (CleanRL) losses and their gradients."""
    q_net, target = _mlp(T, 4, 2, 0), _mlp(T, 4, 2, 1)
    T.manual_seed(5)
    obs, next_obs = T.randn(5, 4), T.randn(5, 4)
    actions, rewards = T.tensor([[0], [1], [1], [0], [1]]), T.tensor([1.0, 1.0, 0.0, 1.0, 1.0])
    dones = T.tensor([0.0, 0.0, 1.0, 0.0, 0.0])
    with T.no_grad():
        target_max, _ = target(next_obs).max(dim=1)
        td_target = rewards.flatten() + 0.99 * target_max * (1 - dones.flatten())
    old_val = q_net(obs).gather(1, actions).squeeze()
    loss = T.nn.functional.mse_loss(td_target, old_val) + T.nn.functional.smooth_l1_loss(old_val, td_target)
    loss.backward()
    return [td_target, old_val, loss] + [p.grad for p in q_net.parameters()]


def test_dqn_td_target():
    run_both(_dqn_targets)


def _save_params(T):
    """stable_baselines3 save: th.save of the policy's state_dict and of the optimizer's into a zip member."""
    net = _mlp(T, 3, 2, 0)
    opt = T.optim.Adam(net.parameters(), lr=1e-3)
    net(T.ones(1, 3)).sum().backward()
    opt.step()
    out = {}
    for name, obj in (('policy', net.state_dict()), ('policy.optimizer', opt.state_dict())):
        buf = io.BytesIO()
        T.save(obj, buf)
        out[name] = buf.getvalue()
    return out


def test_sb3_saved_parameters_load_in_both():
    """Each library reads the other's policy.pth and policy.optimizer.pth (set_parameters loads them with
    th.load(weights_only=True))."""
    import torch
    import ember
    files = {torch: _save_params(torch), ember: _save_params(ember)}
    for reader, writer in ((torch, ember), (ember, torch), (ember, ember)):
        sd = reader.load(io.BytesIO(files[writer]['policy']), weights_only=True)
        ref = torch.load(io.BytesIO(files[torch]['policy']), weights_only=True)
        assert list(sd) == list(ref)
        for k in ref:
            np.testing.assert_allclose(sd[k].detach().numpy(), ref[k].numpy(), rtol=1e-6, atol=1e-7)
        osd = reader.load(io.BytesIO(files[writer]['policy.optimizer']), weights_only=True)
        oref = torch.load(io.BytesIO(files[torch]['policy.optimizer']), weights_only=True)
        assert osd['param_groups'] == oref['param_groups']
        assert int(osd['state'][0]['step']) == int(oref['state'][0]['step'])
        np.testing.assert_allclose(osd['state'][0]['exp_avg'].numpy(), oref['state'][0]['exp_avg'].numpy(),
                                   rtol=1e-6)


def test_sb3_pickled_classes_load_in_pytorch():
    """stable_baselines3/common/save_util.py data_to_json: A2C's saved data holds ``policy_kwargs`` with
    ``optimizer_class=th.optim.RMSprop`` (users add ``activation_fn=th.nn.ReLU``), pickled by reference with
    cloudpickle. Written under the alias, the classes are named by their torch module, so PyTorch loads the file;
    ember reads it back under the alias, and the classes get their ember module back afterwards."""
    import pickle
    import sys
    import torch
    import ember
    from ember import aliasing
    with aliasing.as_torch():
        import torch as T
        kwargs = {'optimizer_class': T.optim.RMSprop, 'activation_fn': T.nn.ReLU,
                  'scheduler': T.optim.lr_scheduler.StepLR}
        data = pickle.dumps(kwargs)
        assert pickle.loads(data) == kwargs
        # cloudpickle pickles a class by reference only when its module is in sys.modules under that name
        assert all(getattr(sys.modules[c.__module__], c.__name__) is c for c in kwargs.values())
        assert repr(T.nn.ReLU) == repr(torch.nn.ReLU)
    assert pickle.loads(data) == {'optimizer_class': torch.optim.RMSprop, 'activation_fn': torch.nn.ReLU,
                                  'scheduler': torch.optim.lr_scheduler.StepLR}
    assert ember.optim.RMSprop.__module__ == 'ember.optim.rmsprop'
    assert ember.nn.ReLU.__module__ == 'ember.nn.modules.activation'
