import torch
import torch.nn as nn

from engine import validate


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Embedding(100, 32), nn.Flatten(), nn.Dropout(0.3), nn.Linear(32 * 6, 100))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_data = [(torch.randint(0, 100, (8, 6)), torch.randint(0, 100, (8,))) for _ in range(20)]
    dev_data = train_data[:2]
    step = 0
    for epoch in range(3):
        model.train()
        for x, y in train_data:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            step += 1
            if step % 5 == 0:
                print(step, validate(model, dev_data, loss_fn))
                model.train()


if __name__ == "__main__":
    main()
