#!/usr/bin/env python3
"""Writes N small distinct PNG photos (64x48, one colour each) as dex/bench/<n>.png under a
media root, for the import benchmark (stdlib only)."""
import argparse
import os
import struct
import zlib


def png(w, h, rgb):
    raw = b"".join(b"\x00" + bytes(rgb) * w for _ in range(h))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    folder = os.path.join(args.out, "dex", "bench")
    os.makedirs(folder, exist_ok=True)
    for n in range(1, args.count + 1):
        rgb = (n % 256, (n // 256) % 256, (n // 65536) % 256)
        with open(os.path.join(folder, f"{n}.png"), "wb") as f:
            f.write(png(64, 48, rgb))


if __name__ == "__main__":
    main()
