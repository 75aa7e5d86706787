import torch
import torch.nn as nn


class Seq2Seq(nn.Module):
    def __init__(self, vocab=500, hidden=64):
        super().__init__()
        self.encoder = nn.GRU(hidden, hidden, batch_first=True)
        self.attention = nn.Linear(2 * hidden, hidden)
        self.decoder = nn.Linear(hidden, vocab)
        self.embed = nn.Embedding(vocab, hidden)

    def forward(self, src):
        enc, h = self.encoder(self.embed(src))
        ctx = torch.tanh(self.attention(torch.cat([enc, h.transpose(0, 1).expand_as(enc)], dim=-1)))
        return self.decoder(ctx)


model = Seq2Seq()
encoder_optimizer = torch.optim.SGD(list(model.encoder.parameters()) + list(model.embed.parameters()), lr=0.01)
decoder_optimizer = torch.optim.SGD(model.decoder.parameters(), lr=0.01)
for _ in range(3):
    src, tgt = torch.randint(0, 500, (4, 10)), torch.randint(0, 500, (4, 10))
    encoder_optimizer.zero_grad()
    decoder_optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(src).reshape(-1, 500), tgt.reshape(-1))
    loss.backward()
    encoder_optimizer.step()
    decoder_optimizer.step()
