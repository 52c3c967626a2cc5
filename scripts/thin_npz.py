#!/usr/bin/env python3
"""Thins a trajectory written by `ansatz simulate`: keeps the observed frames that are
multiples of EVERY (frame 0 included), optionally drops the velocities, and keeps the
teacher-forcing states as they are. Standard library only (no NumPy).

Usage: scripts/thin_npz.py IN.npz OUT.npz [--every K] [--no-velocities]
"""
import argparse
import ast
import struct
import zipfile


def read_npy(data):
    """The header dict, the header length and the raw bytes of an .npy file."""
    assert data[:6] == b"\x93NUMPY", "not an .npy file"
    major = data[6]
    if major == 1:
        (hlen,) = struct.unpack("<H", data[8:10])
        start = 10
    else:
        (hlen,) = struct.unpack("<I", data[8:12])
        start = 12
    header = ast.literal_eval(data[start : start + hlen].decode("latin1"))
    return header, data[start + hlen :]


def write_npy(header, body):
    """An .npy file (version 1.0) of `header` and the raw bytes `body`."""
    text = "{'descr': %r, 'fortran_order': %r, 'shape': %r, }" % (
        header["descr"],
        header["fortran_order"],
        tuple(header["shape"]),
    )
    # Pad so that the data starts on a multiple of 64 bytes, ending with a newline.
    pad = 64 - (10 + len(text) + 1) % 64
    text = text + " " * (pad % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin1") + body


def rows(header, body, keep):
    """The rows `keep` (indices along the first axis) of an array."""
    shape = header["shape"]
    item = int(header["descr"][2:])
    row = item
    for d in shape[1:]:
        row *= d
    out = b"".join(body[i * row : (i + 1) * row] for i in keep)
    return dict(header, shape=(len(keep),) + tuple(shape[1:])), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--no-velocities", action="store_true")
    args = ap.parse_args()
    with zipfile.ZipFile(args.src) as z:
        arrays = {n[: -len(".npy")]: read_npy(z.read(n)) for n in z.namelist()}
    fh, fb = arrays["frames"]
    assert fh["descr"] == "<i8", fh
    frames = struct.unpack("<%dq" % fh["shape"][0], fb)
    keep = [i for i, f in enumerate(frames) if f % args.every == 0]
    per_frame = {"x", "v", "frames"}
    with zipfile.ZipFile(args.dst, "w", zipfile.ZIP_DEFLATED) as z:
        for name, (header, body) in sorted(arrays.items()):
            if name == "v" and args.no_velocities:
                continue
            if name in per_frame:
                header, body = rows(header, body, keep)
            z.writestr(name + ".npy", write_npy(header, body))
    print("kept %d of %d frames in %s" % (len(keep), len(frames), args.dst))


if __name__ == "__main__":
    main()
