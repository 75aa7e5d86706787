"""pytorch/examples imagenet/main.py (abridged): torchvision model, CrossEntropyLoss on raw logits."""
import torch
import torch.nn as nn
import torch.optim
import torchvision.models as models


def accuracy(output, target, topk=(1,)):
    with torch.no_grad():
        maxk = max(topk)
        batch_size = target.size(0)
        _, pred = output.topk(maxk, 1, True, True)
        pred = pred.t()
        correct = pred.eq(target.view(1, -1).expand_as(pred))
        return [correct[:k].reshape(-1).float().sum(0, keepdim=True).mul_(100.0 / batch_size) for k in topk]


def train(train_loader, model, criterion, optimizer, epoch, device):
    model.train()
    for i, (images, target) in enumerate(train_loader):
        images = images.to(device, non_blocking=True)
        target = target.to(device, non_blocking=True)
        output = model(images)
        loss = criterion(output, target)
        acc1, acc5 = accuracy(output, target, topk=(1, 5))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def validate(val_loader, model, criterion, device):
    model.eval()
    with torch.no_grad():
        for images, target in val_loader:
            images, target = images.to(device), target.to(device)
            output = model(images)
            loss = criterion(output, target)
            probs = torch.softmax(output, dim=1)  # for reporting only
            confidence = probs.max(dim=1).values.mean()


def main_worker(arch="resnet18", lr=0.1):
    device = torch.device("cuda")
    model = models.__dict__[arch]()
    model = torch.nn.DataParallel(model).cuda()
    criterion = nn.CrossEntropyLoss().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr, momentum=0.9, weight_decay=1e-4)
    return model, criterion, optimizer


class LinearProbe(nn.Module):
    """A linear classifier on frozen features: forward returns raw logits."""

    def __init__(self, backbone, dim, num_classes):
        super().__init__()
        self.backbone = backbone
        self.fc = nn.Linear(dim, num_classes)

    def forward(self, x):
        with torch.no_grad():
            feats = self.backbone(x)
        return self.fc(feats)


def train_probe(backbone, loader):
    probe = LinearProbe(backbone, 2048, 1000).cuda()
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1).cuda()
    for images, target in loader:
        output = probe(images.cuda())
        loss = criterion(output, target.cuda())
        loss.backward()
