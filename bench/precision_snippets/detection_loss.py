"""torchvision detection roi_heads.fastrcnn_loss style: loss_classifier + loss_box_reg (CE + smooth L1)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class FastRCNNPredictor(nn.Module):
    def __init__(self, in_channels, num_classes):
        super().__init__()
        self.cls_score = nn.Linear(in_channels, num_classes)
        self.bbox_pred = nn.Linear(in_channels, num_classes * 4)

    def forward(self, x):
        x = x.flatten(start_dim=1)
        scores = self.cls_score(x)
        bbox_deltas = self.bbox_pred(x)
        return scores, bbox_deltas


def fastrcnn_loss(class_logits, box_regression, labels, regression_targets):
    labels = torch.cat(labels, dim=0)
    regression_targets = torch.cat(regression_targets, dim=0)
    classification_loss = F.cross_entropy(class_logits, labels)
    sampled_pos_inds_subset = torch.where(labels > 0)[0]
    labels_pos = labels[sampled_pos_inds_subset]
    N, num_classes = class_logits.shape
    box_regression = box_regression.reshape(N, box_regression.size(-1) // 4, 4)
    box_loss = F.smooth_l1_loss(
        box_regression[sampled_pos_inds_subset, labels_pos],
        regression_targets[sampled_pos_inds_subset],
        beta=1 / 9,
        reduction="sum",
    )
    box_loss = box_loss / labels.numel()
    return classification_loss, box_loss


def train_one_epoch(model, optimizer, data_loader, device):
    model.train()
    for images, targets in data_loader:
        loss_dict = model(images, targets)
        losses = sum(loss for loss in loss_dict.values())
        optimizer.zero_grad()
        losses.backward()
        optimizer.step()


def head_loss(predictor, features, labels, regression_targets):
    class_logits = predictor.cls_score(features)
    box_regression = predictor.bbox_pred(features)
    loss_classifier = F.cross_entropy(class_logits, labels)
    loss_box_reg = F.smooth_l1_loss(box_regression, regression_targets, beta=1 / 9)
    loss = loss_classifier + loss_box_reg
    return loss


def rpn_loss(objectness, pred_bbox_deltas, labels, regression_targets):
    objectness_loss = F.binary_cross_entropy_with_logits(objectness, labels)
    box_loss = F.smooth_l1_loss(pred_bbox_deltas, regression_targets, beta=1 / 9, reduction="sum") / labels.numel()
    return objectness_loss + box_loss
