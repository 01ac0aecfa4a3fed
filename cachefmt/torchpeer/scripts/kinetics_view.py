# kinetics_view.py — included by kinetics.py and kinetics27.py (torchpeer
# replaces an "# include: kinetics_view.py" line with this file): everything
# a training job can observe of a Kinetics dataset, as JSON-ready values.


def view(ds):
    vc = ds.video_clips
    return {
        "video_paths": vc.video_paths,
        "video_pts": [t.tolist() for t in vc.video_pts],
        "pts_dtypes": sorted({str(t.dtype) for t in vc.video_pts}),
        "video_fps": vc.video_fps,
        "fps_types": [type(f).__name__ for f in vc.video_fps],
        "samples": [[p, int(l)] for p, l in ds.samples],
        "classes": ds.classes,
        "cumulative_sizes": vc.cumulative_sizes,
        "clips": [[c.tolist() for c in clips] for clips in vc.clips],
        "locations": [list(vc.get_clip_location(i)) for i in range(0, vc.num_clips(), max(1, vc.num_clips() // 97))],
    }
