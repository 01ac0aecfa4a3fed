# datasets.py — the class torchvision's reference video-classification
# train.py defines and pickles into its cache (module name "datasets").
from torchvision.datasets import Kinetics


class KineticsWithVideoId(Kinetics):
    def __getitem__(self, idx):
        video, audio, info, video_idx = self.video_clips.get_clip(idx)
        label = self.samples[video_idx][1]
        if self.transform is not None:
            video = self.transform(video)
        return video, audio, label, video_idx
