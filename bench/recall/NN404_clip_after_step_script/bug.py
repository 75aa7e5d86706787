import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.LSTM(229, 88, batch_first=True)
optimizer = torch.optim.Adam(model.parameters(), lr=6e-4)
clip_gradient_norm = 3

for i in range(100):
    audio, frames = torch.randn(2, 50, 229), torch.rand(2, 50, 88)
    pred, _ = model(audio)
    loss = nn.functional.binary_cross_entropy_with_logits(pred, frames)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip_gradient_norm)
