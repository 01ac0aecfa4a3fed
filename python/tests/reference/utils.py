import os

import torch


def mkdir(path):
    os.makedirs(path, exist_ok=True)


def save_on_master(obj, path):
    torch.save(obj, path)
