# The dataset class of torchvision's reference script: a Kinetics whose items
# carry the index of the video each clip comes from.
import torchvision


class KineticsWithVideoId(torchvision.datasets.Kinetics):
    def __getitem__(self, idx):
        video, audio, info, video_idx = self.video_clips.get_clip(idx)
        label = self.samples[video_idx][1]
        if self.transform is not None:
            video = self.transform(video)
        return video, audio, label, video_idx
