import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
classifier = nn.Sequential(nn.Linear(100, 50), nn.Tanh(), nn.Linear(50, 5))
optimizer = torch.optim.Adam(classifier.parameters(), lr=1e-3)

for step in range(20):
    doc_vectors = torch.randn(32, 100)
    labels = torch.randint(0, 5, (32,))
    optimizer.zero_grad()
    scores = classifier(doc_vectors)
    loss = F.nll_loss(F.log_softmax(scores, dim=1), labels)
    loss.backward()
    optimizer.step()
