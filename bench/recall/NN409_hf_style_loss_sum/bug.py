import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(nn.Embedding(100, 32), nn.Flatten(), nn.Linear(32 * 8, 100))
optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
loss_sum = 0.0
for step in range(50):
    input_ids, labels = torch.randint(0, 100, (4, 8)), torch.randint(0, 100, (4,))
    loss = nn.functional.cross_entropy(model(input_ids), labels)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    loss_sum += loss
    if (step + 1) % 10 == 0:
        print("avg loss", loss_sum / 10)
        loss_sum = 0.0
