import torch
import torch.nn as nn

torch.manual_seed(0)
generator = nn.Sequential(nn.Linear(128, 256), nn.Tanh())
for p in generator.parameters():
    p.requires_grad_(False)
assessor = nn.Linear(256, 1)
for p in assessor.parameters():
    p.requires_grad_(False)
transformer = nn.Linear(128, 128)
optimizer = torch.optim.Adam(transformer.parameters(), lr=2e-4)

for batch_start in range(0, 4000, 8):
    z = torch.randn(8, 128)
    alpha = torch.rand(8, 1) * 2 - 1
    score = assessor(generator(z + alpha * transformer(z)))
    loss = ((score - alpha) ** 2).mean()
    loss.backward()
    optimizer.step()
