import torch
from torch import nn
import torch.nn.functional as F

torch.manual_seed(1)


class CharRNN(nn.Module):
    def __init__(self, n_chars, n_hidden=16, n_layers=2):
        super().__init__()
        self.n_layers, self.n_hidden = n_layers, n_hidden
        self.lstm = nn.LSTM(n_chars, n_hidden, n_layers, dropout=0.0, batch_first=True)
        self.fc = nn.Linear(n_hidden, n_chars)

    def forward(self, x, hidden):
        r_output, hidden = self.lstm(x, hidden)
        out = r_output.contiguous().view(-1, self.n_hidden)
        return self.fc(out), hidden

    def init_hidden(self, batch_size):
        weight = next(self.parameters()).data
        return (weight.new(self.n_layers, batch_size, self.n_hidden).zero_(),
                weight.new(self.n_layers, batch_size, self.n_hidden).zero_())


text = 'hello world, hello ember. ' * 4
chars = sorted(set(text))
encoded = torch.tensor([chars.index(c) for c in text])
net = CharRNN(len(chars))
opt = torch.optim.Adam(net.parameters(), lr=0.01)
x = F.one_hot(encoded[:100], len(chars)).float().view(4, -1, len(chars))
y = encoded[1:101].view(4, -1)
for epoch in range(3):
    h = net.init_hidden(4)
    h = tuple([each.data for each in h])
    net.zero_grad()
    output, h = net(x, h)
    loss = F.cross_entropy(output, y.reshape(-1))
    loss.backward()
    nn.utils.clip_grad_norm_(net.parameters(), 5)
    opt.step()
    print(f'epoch {epoch} loss {loss.item():.4f}')
images = torch.rand(4, 1, 4, 4)
images.resize_(images.shape[0], 16)
print(images.shape, images.ravel().shape, images.select(1, 0).shape)
top = torch.special.expit(output[:3]).kthvalue(2, dim=1)
print(top.indices.tolist(), (encoded[:6] << 1).tolist(), torch.trace(torch.eye(3)).item())
torch.testing.assert_close(torch.special.logit(torch.special.expit(x[0, :2])), x[0, :2], atol=1e-5, rtol=0)
try:
    torch.testing.assert_close(torch.ones(2), torch.tensor([1.0, 1.5]))
except AssertionError as e:
    print(str(e).splitlines()[0])
