# Clip transforms for the test: uint8 TCHW frames -> float CTHW, resized and
# cropped (random crop for training, centre crop for evaluation).
import torch
import torch.nn.functional as F


class _Preset:
    def __init__(self, *, crop_size, resize_size, train):
        self.crop_size, self.resize_size, self.train = tuple(crop_size), tuple(resize_size), train

    def __call__(self, video):
        x = F.interpolate(video.float() / 255, size=self.resize_size, mode="bilinear", align_corners=False)
        (h, w), (ch, cw) = self.resize_size, self.crop_size
        if self.train:
            i, j = int(torch.randint(h - ch + 1, ())), int(torch.randint(w - cw + 1, ()))
        else:
            i, j = (h - ch) // 2, (w - cw) // 2
        return x[:, :, i : i + ch, j : j + cw].permute(1, 0, 2, 3).contiguous()


class VideoClassificationPresetTrain(_Preset):
    def __init__(self, *, crop_size, resize_size):
        super().__init__(crop_size=crop_size, resize_size=resize_size, train=True)


class VideoClassificationPresetEval(_Preset):
    def __init__(self, *, crop_size, resize_size):
        super().__init__(crop_size=crop_size, resize_size=resize_size, train=False)
