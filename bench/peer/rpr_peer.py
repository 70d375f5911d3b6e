"""The PyTorch peer of `npm run bench`: per-sample RPR of a TF.js LayersModel, computed independently.

Reads the TF.js model directory itself (model.json + weights.bin: Conv2D, MaxPooling2D, Flatten, Dense,
ReLU/softmax), builds the equivalent torch module (NHWC input and kernels moved to NCHW; the activation
is put back to NHWC before Flatten so Dense weights keep TF.js's order), drops the final softmax (RPR works
on logits, as rpr-select does), takes the input->logit Jacobian of every image with
torch.func.vmap(torch.func.jacrev(f)), its SVD with numpy, and RPR_k(x) = ||V_k^T x|| / ||x||.

Usage: python rpr_peer.py --model DIR --images X.npy --ks 1,5,10 --threads N --out result.json
X.npy holds float32 images [N, H, W, C] exactly as rpr-select feeds them. The timed part is the
Jacobians, SVDs and projections of all images (model loading excluded).
"""
import argparse
import json
import os
import time

import numpy as np
import torch
from torch import nn
from torch.func import jacrev, vmap


def read_layers_model(directory):
    with open(os.path.join(directory, "model.json")) as f:
        model_json = json.load(f)
    topology = model_json["modelTopology"]
    config = topology.get("model_config", topology)["config"]
    layers = config["layers"] if isinstance(config, dict) else config
    weights = {}
    for group in model_json["weightsManifest"]:
        blob = b"".join(open(os.path.join(directory, p), "rb").read() for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            if spec["dtype"] != "float32":
                raise SystemExit(f"weight {spec['name']} is {spec['dtype']}; the peer reads float32 only")
            count = int(np.prod(spec["shape"])) if spec["shape"] else 1
            weights[spec["name"]] = np.frombuffer(blob, dtype="<f4", count=count, offset=offset).reshape(spec["shape"])
            offset += 4 * count
    return layers, weights


class ToNhwc(nn.Module):
    def forward(self, x):
        return x.permute(0, 2, 3, 1)


def activation(name):
    if name in (None, "linear"):
        return []
    if name == "relu":
        return [nn.ReLU()]
    raise SystemExit(f"activation {name} is not supported by the peer")


def build_torch_model(layers, weights):
    modules = []
    channels = None
    last = len(layers) - 1
    for i, layer in enumerate(layers):
        kind, cfg = layer["class_name"], layer["config"]
        name = cfg["name"]
        if kind == "InputLayer":
            continue
        if "batch_input_shape" in cfg:
            channels = cfg["batch_input_shape"][3]
        if kind == "Conv2D":
            if cfg["padding"] != "same" or tuple(cfg["strides"]) != (1, 1) or tuple(cfg.get("dilation_rate", (1, 1))) != (1, 1):
                raise SystemExit(f"layer {name}: the peer supports stride-1, 'same' convolutions only")
            kernel = weights[f"{name}/kernel"]  # [kh, kw, in, out]
            conv = nn.Conv2d(kernel.shape[2], kernel.shape[3], kernel.shape[:2], padding="same", bias=cfg["use_bias"])
            conv.weight.data = torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))
            if cfg["use_bias"]:
                conv.bias.data = torch.from_numpy(weights[f"{name}/bias"].copy())
            modules += [conv, *activation(cfg["activation"])]
            channels = kernel.shape[3]
        elif kind == "MaxPooling2D":
            if cfg["padding"] != "valid":
                raise SystemExit(f"layer {name}: the peer supports 'valid' max-pooling only")
            modules.append(nn.MaxPool2d(cfg["pool_size"], cfg["strides"]))
        elif kind == "Flatten":
            modules += [ToNhwc(), nn.Flatten()]
        elif kind == "Dense":
            kernel = weights[f"{name}/kernel"]  # [in, out]
            dense = nn.Linear(kernel.shape[0], kernel.shape[1], bias=cfg["use_bias"])
            dense.weight.data = torch.from_numpy(np.ascontiguousarray(kernel.T))
            if cfg["use_bias"]:
                dense.bias.data = torch.from_numpy(weights[f"{name}/bias"].copy())
            final = cfg["activation"] in ("softmax", "sigmoid") and i == last
            modules += [dense, *([] if final else activation(cfg["activation"]))]
        else:
            raise SystemExit(f"layer {name} of class {kind} is not supported by the peer")
    return nn.Sequential(*modules).eval(), channels


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--images", required=True)
    parser.add_argument("--ks", default="1,5,10")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    ks = [int(k) for k in args.ks.split(",")]
    layers, weights = read_layers_model(args.model)
    net, _ = build_torch_model(layers, weights)
    images = np.load(args.images).astype(np.float32)

    def logits(x):  # one NHWC image -> m logits
        return net(x.permute(2, 0, 1).unsqueeze(0))[0]

    jacobian = vmap(jacrev(logits))
    jacobian(torch.from_numpy(images[: min(len(images), args.batch)]))  # warm-up, untimed (as on the rpr-select side)
    rpr = np.zeros((len(images), len(ks)))
    start = time.perf_counter()
    for b in range(0, len(images), args.batch):
        x = torch.from_numpy(images[b : b + args.batch])
        jac = jacobian(x).detach().reshape(x.shape[0], -1, int(np.prod(x.shape[1:]))).numpy().astype(np.float64)
        flat = x.reshape(x.shape[0], -1).numpy().astype(np.float64)
        for i in range(x.shape[0]):
            _, _, vt = np.linalg.svd(jac[i], full_matrices=False)
            coords = vt @ flat[i]
            norm = np.linalg.norm(flat[i])
            rpr[b + i] = [np.linalg.norm(coords[:k]) / norm for k in ks]
    seconds = time.perf_counter() - start
    result = {
        "images": len(images),
        "seconds": seconds,
        "imagesPerSecond": len(images) / seconds,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "ks": ks,
        "rpr": rpr.tolist(),
    }
    with open(args.out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
