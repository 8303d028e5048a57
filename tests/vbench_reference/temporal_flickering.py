"""VBench's temporal_flickering, verbatim from Vchitect/VBench (vbench/temporal_flickering.py
at 45e79ec, Apache-2.0), minus the distributed-evaluation wrappers. Used by admint's tests
as the reference implementation: `python3 temporal_flickering.py VIDEO...` prints one
score per line. Needs numpy and opencv-python-headless."""
import sys

import cv2
import numpy as np


def get_frames(video_path):
        frames = []
        video = cv2.VideoCapture(video_path)
        while video.isOpened():
            success, frame = video.read()
            if success:
                frames.append(frame)
            else:
                break
        video.release()
        assert frames != []
        return frames


def mae_seq(frames):
    ssds = []
    for i in range(len(frames)-1):
        ssds.append(calculate_mae(frames[i], frames[i+1]))
    return np.array(ssds)


def calculate_mae(img1, img2):
    """Computing the mean absolute error (MAE) between two images."""
    if img1.shape != img2.shape:
        print("Images don't have the same shape.")
        return
    return np.mean(cv2.absdiff(np.array(img1, dtype=np.float32), np.array(img2, dtype=np.float32)))


def cal_score(video_path):
    """please ensure the video is static"""
    frames = get_frames(video_path)
    score_seq = mae_seq(frames)
    return (255.0 - np.mean(score_seq).item())/255.0


if __name__ == "__main__":
    for path in sys.argv[1:]:
        print(f"{cal_score(path):.6f}")
