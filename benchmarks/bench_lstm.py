"""An LSTM language-model training step as pytorch/examples' word_language_model trains it (embedding,
two-layer LSTM, linear decoder, dropout 0.2; 35 steps of a batch of 20, hidden state carried over
detached, gradient clipping at 0.25, plain SGD update) on a 10,000-word vocabulary, sizes 200, in
milliseconds per step."""
import torch
import torch.nn as nn
import torch.nn.functional as F

import _harness

NTOKEN, SIZE, LAYERS, BPTT, BATCH, LR = 10_000, 200, 2, 35, 20, 20.0


class RNNModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.2)
        self.encoder = nn.Embedding(NTOKEN, SIZE)
        self.rnn = nn.LSTM(SIZE, SIZE, LAYERS, dropout=0.2)
        self.decoder = nn.Linear(SIZE, NTOKEN)

    def forward(self, x, hidden):
        output, hidden = self.rnn(self.drop(self.encoder(x)), hidden)
        decoded = self.decoder(self.drop(output)).view(-1, NTOKEN)
        return F.log_softmax(decoded, dim=1), hidden


def trainer():
    model = RNNModel()
    criterion = nn.NLLLoss()
    data = torch.randint(0, NTOKEN, (BPTT, BATCH))
    targets = torch.randint(0, NTOKEN, (BPTT * BATCH,))
    state = [(torch.zeros(LAYERS, BATCH, SIZE), torch.zeros(LAYERS, BATCH, SIZE))]

    def step():
        hidden = tuple(h.detach() for h in state[0])
        model.zero_grad()
        output, hidden = model(data, hidden)
        loss = criterion(output, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-LR)
        state[0] = hidden
        return loss.item()
    return step


if __name__ == "__main__":
    _harness.start(torch)
    _harness.report("LSTM LM step", _harness.seconds_per_call(trainer()) * 1e3, "ms/iter")
