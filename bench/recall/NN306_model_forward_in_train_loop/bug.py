import torch
import torch.nn as nn


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(1000, 32)
        self.out = nn.Linear(32, 5)

    def forward(self, tokens):
        return self.out(self.embed(tokens))


model = Tagger()
model.embed.register_forward_hook(lambda mod, inp, out: print("embedding norm", out.norm().item()))
optimizer = torch.optim.Adam(model.parameters())
for step in range(3):
    tokens, tags = torch.randint(0, 1000, (4, 12)), torch.randint(0, 5, (4, 12))
    optimizer.zero_grad()
    scores = model.forward(tokens)
    loss = nn.functional.cross_entropy(scores.view(-1, 5), tags.view(-1))
    loss.backward()
    optimizer.step()
