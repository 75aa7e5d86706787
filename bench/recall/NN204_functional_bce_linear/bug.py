import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(30, 16), nn.ReLU(), nn.Linear(16, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
features = torch.randn(256, 30)
labels = (features[:, 0] > 0).float().unsqueeze(1)

for epoch in range(50):
    optimizer.zero_grad()
    out = model(features)
    loss = F.binary_cross_entropy(out, labels)
    loss.backward()
    optimizer.step()
