#!/usr/bin/env python3
"""Drives the pipeline benchmark: uploads N one-megapixel photos through the client's
multipart conversion, then submits N vision jobs as fast as it can and waits for all of them.
Prints upload and job throughput; latencies come from the database afterwards.
Usage: vision_driver.py BASE_URL TOKEN PHOTO N CONCURRENCY [PACE]
With PACE (jobs/s) the jobs are submitted at that steady rate instead of all at once, which
measures pickup latency rather than queueing behind a burst."""
import json
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

base, token, photo, n, conc = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
pace = float(sys.argv[6]) if len(sys.argv) > 6 else None
data = open(photo, "rb").read()
boundary = "GodotBiologiDexBoundary"
body = (f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"photo.jpg\"\r\n"
        f"Content-Type: image/jpeg\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()


def call(path, payload, content_type):
    req = urllib.request.Request(base + path, data=payload, method="POST")
    req.add_header("Authorization", "Bearer " + token)
    req.add_header("Content-Type", content_type)
    with urllib.request.urlopen(req) as res:
        return json.load(res)


def convert(_):
    return call("/api/v1/images/convert/", body, f"multipart/form-data; boundary={boundary}")["id"]


def job(conversion):
    return call("/api/v1/vision/jobs/", json.dumps({"conversion_id": conversion}).encode(), "application/json")["id"]


with ThreadPoolExecutor(conc) as pool:
    started = time.time()
    conversions = list(pool.map(convert, range(n)))
    took = time.time() - started
    print(f"uploads: {n} one-megapixel JPEG conversions in {took:.2f} s = {n / took:.1f}/s ({conc} concurrent)")
    started = time.time()
    if pace:
        jobs = []
        for i, c in enumerate(conversions):
            time.sleep(max(0.0, started + i / pace - time.time()))
            jobs.append(job(c))
    else:
        jobs = list(pool.map(job, conversions))
    print(f"job submissions: {n} in {time.time() - started:.2f} s")
print(json.dumps(jobs))
