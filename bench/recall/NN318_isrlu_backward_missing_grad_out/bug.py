import torch
import torch.nn as nn


class ISRLUFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, alpha=1.0):
        negatives = torch.clamp(x, max=0)
        nisr = torch.rsqrt(1.0 + alpha * negatives**2)
        ctx.save_for_backward(nisr)
        return x * nisr

    @staticmethod
    def backward(ctx, grad_out):
        (nisr,) = ctx.saved_tensors
        return nisr**3, None


class ISRLUNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 3)

    def forward(self, x):
        return self.fc2(ISRLUFunction.apply(self.fc1(x)))
