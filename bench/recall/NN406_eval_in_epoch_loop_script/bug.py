import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(2, 128), nn.Dropout(0.1), nn.Tanh(), nn.Linear(128, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
objective = nn.MSELoss()
test_x, test_y = torch.randn(100, 2), torch.randn(100, 1)

model.train()
for epoch in range(100):
    x, y = torch.randn(32, 2), torch.randn(32, 1)
    optimizer.zero_grad()
    loss = objective(model(x), y)
    loss.backward()
    optimizer.step()
    if epoch % 10 == 0:
        model.eval()
        with torch.no_grad():
            print(objective(model(test_x), test_y).item())
