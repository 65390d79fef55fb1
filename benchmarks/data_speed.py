"""Batches per second: gan_course's one-tensor batcher vs a standard fastai DataBlock pipeline, same images, one process.

Usage: GAN_COURSE_DATA=../shared/data/mnist python benchmarks/data_speed.py [--bs 128] [--epochs 3]
Both loaders read the same 10,000 MNIST images (or whatever `mnist()` finds) at the same batch size on the CPU and
yield (images scaled to [-1, 1], labels). The fastai pipeline is the usual one for in-memory arrays: a DataBlock with
ImageBlock(PILImageBW) + CategoryBlock, per-item PIL conversion, collation, then IntToFloatTensor and Normalize.
"""
import argparse, time
import numpy as np, torch
from fastai.vision.all import DataBlock, ImageBlock, CategoryBlock, PILImageBW, IntToFloatTensor, Normalize
from gan_course.data import mnist, gan_dataloaders


def batches_per_second(loader, epochs):
    "Iterate `loader` for `epochs` epochs after one warm-up batch; return (batches/s, batches)."
    next(iter(loader))
    start, n = time.perf_counter(), 0
    for _ in range(epochs):
        for x, y in loader: n += 1
    return n / (time.perf_counter() - start), n


def fastai_datablock_loader(ds, bs, num_workers):
    "The standard fastai route for in-memory images: one item at a time through PIL, scaled to [-1, 1] on the batch."
    arrays, labels = ds.images[:, 0].numpy(), ds.labels.tolist()
    block = DataBlock(blocks=(ImageBlock(PILImageBW), CategoryBlock), get_x=lambda i: PILImageBW.create(arrays[i]),
                      get_y=lambda i: labels[i], splitter=lambda items: (list(range(len(items))), []),
                      batch_tfms=[IntToFloatTensor(), Normalize.from_stats(0.5, 0.5)])
    return block.dataloaders(list(range(len(ds))), bs=bs, num_workers=num_workers, device='cpu', drop_last=True).train


def main(bs=128, epochs=3):
    torch.set_num_threads(2)
    ds = mnist()
    ours = gan_dataloaders(ds, bs=bs, device='cpu').train
    ours_bps, ours_n = batches_per_second(ours, epochs)
    rows = [('gan_course TensorBatches', ours_bps, ours_n)]
    for workers in (0, 2):
        bps, n = batches_per_second(fastai_datablock_loader(ds, bs, workers), 1)
        rows.append((f'fastai DataBlock, num_workers={workers}', bps, n))
    print(f"{len(ds):,} images of {ds.shape}, bs={bs}, CPU, torch threads=2\n")
    print(f"| loader | batches/s | batches timed | gan_course speed-up |\n|---|---|---|---|")
    for name, bps, n in rows: print(f"| {name} | {bps:,.1f} | {n} | {ours_bps/bps:,.1f}x |")


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--bs', type=int, default=128); p.add_argument('--epochs', type=int, default=3)
    main(**vars(p.parse_args()))
