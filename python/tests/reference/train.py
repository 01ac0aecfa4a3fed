# A stand-in for torchvision's references/video_classification/train.py (see
# README.md): its command line, its datasets and its cache branches, where
# train.patch changes them; a tiny model, and a summary of what it loaded and
# trained on (summary.json in --output-dir) for test_reference.py.
import json
import os
import time

import datasets
import presets
import torch
import torch.utils.data
import utils
from torch import nn
from torch.utils.data.dataloader import default_collate
from torchvision.datasets.samplers import RandomClipSampler, UniformClipSampler


def _get_cache_path(filepath, args):
    import hashlib

    value = f"{filepath}-{args.clip_len}-{args.kinetics_version}-{args.frame_rate}"
    h = hashlib.sha1(value.encode()).hexdigest()
    return os.path.join(args.output_dir, "torchvision-cache", h[:10] + ".pt")


def collate_fn(batch):
    # remove audio from the batch
    batch = [(d[0], d[2], d[3]) for d in batch]
    return default_collate(batch)


def main(args):
    if args.output_dir:
        utils.mkdir(args.output_dir)

    torch.manual_seed(0)
    print(args)

    val_resize_size = tuple(args.val_resize_size)
    val_crop_size = tuple(args.val_crop_size)
    train_resize_size = tuple(args.train_resize_size)
    train_crop_size = tuple(args.train_crop_size)

    traindir = os.path.join(args.data_path, "train")
    valdir = os.path.join(args.data_path, "val")

    print("Loading training data")
    st = time.time()
    cache_path = _get_cache_path(traindir, args)
    transform_train = presets.VideoClassificationPresetTrain(crop_size=train_crop_size, resize_size=train_resize_size)

    if args.cache_dataset and os.path.exists(cache_path):
        print(f"Loading dataset_train from {cache_path}")
        dataset, _ = torch.load(cache_path, weights_only=False)
        dataset.transform = transform_train
    else:
        print("Computing dataset_train with torchvision")
        dataset = datasets.KineticsWithVideoId(
            args.data_path,
            frames_per_clip=args.clip_len,
            num_classes=args.kinetics_version,
            split="train",
            step_between_clips=1,
            transform=transform_train,
            frame_rate=args.frame_rate,
            extensions=("avi", "mp4"),
            output_format="TCHW",
        )
        if args.cache_dataset:
            utils.mkdir(os.path.dirname(cache_path))
            utils.save_on_master((dataset, traindir), cache_path)
    print("Took", time.time() - st)

    print("Loading validation data")
    cache_path = _get_cache_path(valdir, args)

    if args.weights:
        raise SystemExit("this stand-in has no pretrained weights (--weights)")
    else:
        transform_test = presets.VideoClassificationPresetEval(crop_size=val_crop_size, resize_size=val_resize_size)

    if args.cache_dataset and os.path.exists(cache_path):
        print(f"Loading dataset_test from {cache_path}")
        dataset_test, _ = torch.load(cache_path, weights_only=False)
        dataset_test.transform = transform_test
    else:
        print("Computing dataset_test with torchvision")
        dataset_test = datasets.KineticsWithVideoId(
            args.data_path,
            frames_per_clip=args.clip_len,
            num_classes=args.kinetics_version,
            split="val",
            step_between_clips=1,
            transform=transform_test,
            frame_rate=args.frame_rate,
            extensions=("avi", "mp4"),
            output_format="TCHW",
        )
        if args.cache_dataset:
            utils.mkdir(os.path.dirname(cache_path))
            utils.save_on_master((dataset_test, valdir), cache_path)

    print("Creating data loaders")
    train_sampler = RandomClipSampler(dataset.video_clips, args.clips_per_video)
    test_sampler = UniformClipSampler(dataset_test.video_clips, args.clips_per_video)
    data_loader = torch.utils.data.DataLoader(
        dataset, batch_size=args.batch_size, sampler=train_sampler, num_workers=args.workers, collate_fn=collate_fn
    )
    data_loader_test = torch.utils.data.DataLoader(
        dataset_test, batch_size=args.batch_size, sampler=test_sampler, num_workers=args.workers, collate_fn=collate_fn
    )

    model = nn.Sequential(
        nn.Conv3d(3, 8, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool3d(1),
        nn.Flatten(),
        nn.Linear(8, len(dataset.classes)),
    )
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)

    summary = {"train": _describe(dataset), "val": _describe(dataset_test), "losses": [], "seen": {"train": [], "val": []}}
    print("Start training")
    for epoch in range(args.epochs):
        model.train()
        for video, target, video_idx in data_loader:
            summary["seen"]["train"] += [[int(i), int(t), list(video.shape[1:])] for i, t in zip(video_idx, target)]
            loss = criterion(model(video), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            summary["losses"].append(loss.item())
        model.eval()
        # As upstream's evaluate: clip predictions aggregated per video by the video index.
        agg = torch.zeros(len(dataset_test.samples), len(dataset_test.classes))
        with torch.inference_mode():
            for video, target, video_idx in data_loader_test:
                summary["seen"]["val"] += [[int(i), int(t), list(video.shape[1:])] for i, t in zip(video_idx, target)]
                preds = torch.softmax(model(video), dim=1)
                for b in range(video.size(0)):
                    agg[video_idx[b]] += preds[b]
        summary["videos_evaluated"] = int((agg.sum(dim=1) > 0).sum())
        utils.save_on_master({"model": model.state_dict(), "epoch": epoch}, os.path.join(args.output_dir, "checkpoint.pth"))
    with open(os.path.join(args.output_dir, "summary.json"), "w") as f:
        json.dump(summary, f)
    print("Done")


def _describe(ds):
    return {
        "class": type(ds).__name__,
        "transform": type(ds.transform).__name__,
        "root": ds.root,
        "classes": ds.classes,
        "samples": ds.samples,
        "video_paths": ds.video_clips.video_paths,
        "clips_per_video": [len(c) for c in ds.video_clips.clips],
        "clips": len(ds),
    }


def get_args_parser(add_help=True):
    import argparse

    parser = argparse.ArgumentParser(description="A stand-in for the reference video classification training", add_help=add_help)

    parser.add_argument("--data-path", default="/datasets01_101/kinetics/070618/", type=str, help="dataset path")
    parser.add_argument("--kinetics-version", default="400", type=str, choices=["400", "600"], help="Kinetics version")
    parser.add_argument("--clip-len", default=16, type=int, metavar="N", help="number of frames per clip")
    parser.add_argument("--frame-rate", default=15, type=int, metavar="N", help="the frame rate")
    parser.add_argument("--clips-per-video", default=5, type=int, metavar="N", help="clips per video to consider")
    parser.add_argument("-b", "--batch-size", default=24, type=int, help="clips per batch")
    parser.add_argument("--epochs", default=1, type=int, metavar="N", help="number of epochs")
    parser.add_argument("-j", "--workers", default=0, type=int, metavar="N", help="data loading workers")
    parser.add_argument("--lr", default=0.01, type=float, help="learning rate")
    parser.add_argument("--momentum", default=0.9, type=float, metavar="M", help="momentum")
    parser.add_argument("--output-dir", default=".", type=str, help="path to save outputs")
    parser.add_argument(
        "--cache-dataset",
        dest="cache_dataset",
        help="Cache the datasets for quicker initialization. It also serializes the transforms",
        action="store_true",
    )
    parser.add_argument(
        "--sync-bn",
        dest="sync_bn",
        help="Use sync batch norm",
        action="store_true",
    )
    parser.add_argument("--val-resize-size", default=(36, 48), nargs="+", type=int, help="validation resize size")
    parser.add_argument("--val-crop-size", default=(32, 32), nargs="+", type=int, help="validation crop size")
    parser.add_argument("--train-resize-size", default=(36, 48), nargs="+", type=int, help="training resize size")
    parser.add_argument("--train-crop-size", default=(32, 32), nargs="+", type=int, help="training crop size")
    parser.add_argument("--weights", default=None, type=str, help="pretrained weights (none here)")

    return parser


if __name__ == "__main__":
    args = get_args_parser().parse_args()
    main(args)
