"""The HTML timeline: self-contained and deterministic, and it renders in headless Chromium
(Debian's chromium package: skipped without it, except under CI, whose .ci/run installs it):
no console errors, one row per hart with one segment per run, and the pixels of those
segments carry their thread's colour."""
import html
import json
import re
import struct
import subprocess
import tempfile
import zlib

import pytest

from tests.conftest import require
from tools import timeline, trace
from tools.run import simulate

WINDOW = (1400, 900)
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  f"--window-size={WINDOW[0]},{WINDOW[1]}"]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """(trace object, path of its HTML page) for s20_parallel on 4 harts."""
    r = simulate("s20_parallel", ["100000"], cpus=4, seed=1, trace=True)
    model = trace.build(r.kernel.events, 4, r.machine.clock.now)
    obj = json.loads(trace.dumps(trace.chrome(model, {"program": "s20_parallel", "args": ["100000"], "seed": 1})))
    path = tmp_path_factory.mktemp("timeline") / "s20.html"
    timeline.write(str(path), obj)
    return obj, path


def chromium(*args) -> subprocess.CompletedProcess:
    exe = require("chromium")
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=120)


def runs_per_hart(obj) -> dict:
    out = {}
    for e in obj["traceEvents"]:
        if e["ph"] == "B" and e["pid"] == trace.HARTS_PID:
            out[e["tid"] - trace.HARTS_PID] = out.get(e["tid"] - trace.HARTS_PID, 0) + 1
    return out


def read_png(path):
    """(width, height, rows of RGB tuples) of an 8-bit RGB or RGBA, non-interlaced PNG."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    bpp = 3 if ctype == 2 else 4
    raw, stride, prev, rows = zlib.decompress(idat), w * bpp, bytearray(w * bpp), []
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(w)])
        prev = line
    return w, h, rows


def test_page_is_self_contained_and_deterministic(page):
    obj, path = page
    text = path.read_text()
    assert timeline.render(obj) == text
    assert not re.search(r"https?://|<script[^>]+src=|<link[^>]+href=|@import", text)
    evil = json.loads(json.dumps(obj))
    for e in evil["traceEvents"]:
        if e["ph"] == "M" and e["name"] == "thread_name" and e["pid"] != trace.HARTS_PID:
            e["args"]["name"] = "</script><b>x"
    assert "</script><b>x" not in timeline.render(evil)        # data cannot end the script


@pytest.mark.needs("chromium")
def test_page_renders_rows_and_segments_without_errors(page, tmp_path):
    obj, path = page
    r = chromium("--enable-logging=stderr", "--v=0", "--dump-dom", path.as_uri())
    assert r.returncode == 0, r.stderr[-2000:]
    console = [line for line in r.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    m = re.search(r'<pre id="summary"[^>]*>(.*?)</pre>', r.stdout, re.S)
    assert m and m.group(1), "the page's script did not finish drawing"
    summary = json.loads(html.unescape(m.group(1)))
    assert summary["errors"] == []
    assert summary["harts"] == 4 and [row["hart"] for row in summary["rows"]] == [0, 1, 2, 3]
    expected = runs_per_hart(obj)
    assert [row["segments"] for row in summary["rows"]] == [expected.get(h, 0) for h in range(4)]
    threads = {(e["pid"], e["tid"]) for e in obj["traceEvents"] if e["ph"] == "X" and e["cat"] == "state"}
    assert summary["threadRows"] == len(threads) >= 5
    assert summary["marks"] > 0 and summary["wakes"] > 0

    shot = tmp_path / "shot.png"
    r = chromium(f"--screenshot={shot}", path.as_uri())
    assert r.returncode == 0 and shot.exists(), r.stderr[-2000:]
    w, h, pixels = read_png(shot)
    assert (w, h) == WINDOW
    ox, oy = summary["canvas"]["x"], summary["canvas"]["y"]
    for row in summary["rows"]:                 # every hart ran something: its widest segment
        s = row["sample"]
        want = tuple(int(s["color"][i:i + 2], 16) for i in (1, 3, 5))
        got = pixels[oy + s["y"]][ox + s["x"]]
        assert all(abs(a - b) <= 3 for a, b in zip(got, want)), (row["hart"], got, want)
